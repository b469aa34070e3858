package procs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// CPU is the processor time the PostgreSQL server has used so far: the
// postmaster, its live backends and the ones it has reaped.
func (p *Postgres) CPU() (time.Duration, error) {
	pid, err := p.proc.pid()
	if err != nil {
		return 0, err
	}
	return TreeCPU(pid)
}

// TreeCPU is the processor time (user and system) of process pid, of the
// children it has waited for and of its live children, so a server that
// forks a process per connection is measured whole.
func TreeCPU(pid int) (time.Duration, error) {
	own, _, err := statCPU(fmt.Sprintf("/proc/%d/stat", pid), true)
	if err != nil {
		return 0, err
	}
	total := own
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, fmt.Errorf("listing processes: %w", err)
	}
	for _, path := range stats {
		t, parent, err := statCPU(path, false)
		if err != nil || parent != pid {
			// Gone since the listing, or not a child.
			continue
		}
		total += t
	}
	return total, nil
}

// statCPU reads utime and stime (and, with reaped, cutime and cstime) and
// the parent's PID from a /proc/PID/stat file.
func statCPU(path string, reaped bool) (time.Duration, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the fields after it start with the state (field 3).
	end := strings.LastIndexByte(string(b), ')')
	if end < 0 {
		return 0, 0, fmt.Errorf("%s: no command name in %.80q", path, b)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("%s: %d fields after the command name, want at least 15", path, len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, fmt.Errorf("%s: parent PID %q: %w", path, f[1], err)
	}
	// utime, stime, cutime, cstime are fields 14 to 17, here 11 to 14.
	n := 2
	if reaped {
		n = 4
	}
	var ticks int64
	for _, s := range f[11 : 11+n] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: CPU time %q: %w", path, s, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * clockTick, ppid, nil
}
