package procs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestFreePortNeverRepeats draws more ports than a block holds, so a second
// block is taken; no port is given twice and all are in the blocks.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]int{}
	for i := range blockSize + blockSize/2 {
		p, err := FreePort()
		if err != nil {
			t.Fatalf("draw %d: %v", i, err)
		}
		if j, ok := seen[p]; ok {
			t.Fatalf("draw %d returned port %d, already returned by draw %d", i, p, j)
		}
		if p < portBase || p >= portBase+blockCount*blockSize {
			t.Fatalf("draw %d returned port %d, outside the blocks", i, p)
		}
		seen[p] = i
	}
}

// TestKernelPortNeverRepeats covers the last resort: the kernel picks a port
// for a bind to port 0 from about 14,000 (odd ports of the ephemeral range),
// far from uniformly, so without the record of ports given out a repeat among
// 3,000 draws is all but certain.
func TestKernelPortNeverRepeats(t *testing.T) {
	ports.Lock()
	defer ports.Unlock()
	if ports.issued == nil {
		ports.issued = map[int]bool{}
	}
	seen := map[int]int{}
	for i := range 3000 {
		p, err := kernelPort()
		if err != nil {
			t.Fatalf("draw %d: %v", i, err)
		}
		if j, ok := seen[p]; ok {
			t.Fatalf("draw %d returned port %d, already returned by draw %d", i, p, j)
		}
		seen[p] = i
	}
}

// TestFreePortAcrossProcesses runs this test binary three times at once, each
// drawing ports, and requires that no two processes got the same port and
// that each drew from a block of its own.
func TestFreePortAcrossProcesses(t *testing.T) {
	if n := os.Getenv("PROCS_DRAW_PORTS"); n != "" {
		count, _ := strconv.Atoi(n)
		var out []string
		for range count {
			p, err := FreePort()
			if err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			out = append(out, strconv.Itoa(p))
		}
		fmt.Println("PORTS " + strings.Join(out, " "))
		// Hold the block until the parent has started all three.
		_, _ = os.Stdin.Read(make([]byte, 1))
		return
	}
	const procs, draws = 3, 300
	type child struct {
		cmd   *exec.Cmd
		stdin io.Closer
		lines *bufio.Scanner
	}
	var children []child
	for range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFreePortAcrossProcesses$")
		cmd.Env = append(os.Environ(), "PROCS_DRAW_PORTS="+strconv.Itoa(draws))
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		children = append(children, child{cmd, in, sc})
	}
	// Every child has drawn (and holds its block) before any is let go.
	owner := map[int]int{}
	for i, c := range children {
		var list string
		for c.lines.Scan() {
			if rest, ok := strings.CutPrefix(c.lines.Text(), "PORTS "); ok {
				list = rest
				break
			}
		}
		fields := strings.Fields(list)
		if len(fields) != draws {
			t.Fatalf("child %d printed %d ports, want %d", i, len(fields), draws)
		}
		blocks := map[int]bool{}
		for _, f := range fields {
			p, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("child %d: %q is not a port", i, f)
			}
			if j, ok := owner[p]; ok {
				t.Fatalf("port %d given to child %d and child %d", p, j, i)
			}
			owner[p] = i
			if p < portBase || p >= portBase+blockCount*blockSize {
				t.Errorf("child %d got port %d, outside the blocks", i, p)
			}
			blocks[(p-portBase)/blockSize] = true
		}
		if len(blocks) != 1 {
			t.Errorf("child %d drew from blocks %v, want one", i, blocks)
		}
	}
	for i, c := range children {
		c.stdin.Close()
		for c.lines.Scan() {
		}
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
}
