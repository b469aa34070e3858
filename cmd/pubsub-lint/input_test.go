//go:build linux || darwin

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// endless is an endless stream of YAML comments.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "# x\n"[i%4]
	}
	return len(p), nil
}

type result struct {
	code        int
	out, errOut string
	took        time.Duration
	alloc       uint64
}

// runWithin runs the command and fails the test when it has not returned
// after d (hung on a FIFO, reading an endless file).
func runWithin(t *testing.T, d time.Duration, args []string, stdin io.Reader) result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		code := run(context.Background(), args, stdin, &out, &errb)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		done <- result{code, out.String(), errb.String(), took, after.TotalAlloc - before.TotalAlloc}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		t.Fatalf("pubsub-lint %q still running after %v", args, d)
		panic("unreachable")
	}
}

// TestHostileInput: devices, FIFOs and endless streams end quickly, with
// bounded memory, as input errors or skipped files.
func TestHostileInput(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Fatal("no /dev/zero on this machine")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")); err != nil {
		t.Fatal(err)
	}
	conn := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: Dapr, config: '{\"component\": \"pubsub\"}'}\n"
	if err := os.WriteFile(filepath.Join(dir, "conn.yaml"), []byte(conn), 0o644); err != nil {
		t.Fatal(err)
	}
	const mi = 1 << 20
	for _, tt := range []struct {
		name   string
		args   []string
		stdin  io.Reader
		code   int
		stdout []string
		stderr string
		// maxAlloc bounds what the run allocates (0: not checked).
		maxAlloc uint64
	}{
		{"explicit /dev/zero", []string{"/dev/zero"}, nil, 2, []string{"/dev/zero: error input-error: not a regular file or directory but a character device"}, "", 4 * mi},
		{"explicit FIFO", []string{fifo}, nil, 2, []string{fifo + ": error input-error: not a regular file or directory but a named pipe (FIFO)"}, "", 4 * mi},
		{"directory with a FIFO and a link to /dev/zero", []string{dir}, nil, 1, []string{
			"conn.yaml:4:18: error connection-driver-unknown",
			"note: skipped " + fifo + ": a named pipe (FIFO), not a regular file",
			"note: skipped " + filepath.Join(dir, "zero.yaml") + ": a symbolic link to a character device (/dev/zero), not a regular file",
			"in 1 file (1 object)",
		}, "", 8 * mi},
		{"endless stdin, small limit", []string{"--max-input-bytes", "1Mi", "-"}, endless{}, 2, []string{"<stdin>: error input-error: input too large: more than 1Mi (1048576 bytes), the --max-input-bytes limit"}, "", 4 * mi},
		{"endless stdin, default limit", []string{"-"}, endless{}, 2, []string{"more than 64Mi (67108864 bytes)"}, "", 64*mi + 16*mi},
		{"endless stdin, json", []string{"--format", "json", "--max-input-bytes=65536", "-"}, endless{}, 2, []string{`"rule": "input-error"`, `"inputErrors": 1`, `"notes": [`}, "pubsub-lint: reading standard input: input too large: more than 64Ki (65536 bytes)", 4 * mi},
		{"stdin just over a small limit", []string{"--max-input-bytes", "100", "-"}, strings.NewReader(strings.Repeat("#", 101)), 2, []string{"more than 100 bytes"}, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runWithin(t, 20*time.Second, tt.args, tt.stdin)
			if r.code != tt.code || !strings.Contains(r.errOut, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.out, r.errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(r.out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.out)
				}
			}
			if r.took > 5*time.Second {
				t.Errorf("took %v", r.took)
			}
			if tt.maxAlloc > 0 && r.alloc > tt.maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", r.alloc, tt.maxAlloc)
			}
		})
	}
}

// TestNotesInEveryFormat: the note of a skipped file reaches every format.
func TestNotesInEveryFormat(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	for _, f := range []string{"connection.yaml", "audit.yaml", "components.yaml", "subscriber.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(readFile(t, filepath.Join(qs, f))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	note := "skipped " + fifo + ": a named pipe (FIFO), not a regular file"
	for _, tt := range []struct {
		format string
		check  func(out string) bool
	}{
		{"text", func(out string) bool { return strings.Contains(out, "note: "+note+"\n") }},
		{"github", func(out string) bool { return strings.Contains(out, "::notice::"+note+"\n") }},
		{"json", func(out string) bool {
			var v struct{ Notes []string }
			return json.Unmarshal([]byte(out), &v) == nil && slices.Contains(v.Notes, note)
		}},
		{"sarif", func(out string) bool {
			var v struct {
				Runs []struct {
					Invocations []struct {
						ExecutionSuccessful        bool
						ToolExecutionNotifications []struct {
							Level   string
							Message struct{ Text string }
						}
					}
				}
			}
			if json.Unmarshal([]byte(out), &v) != nil || len(v.Runs) != 1 || len(v.Runs[0].Invocations) != 1 {
				return false
			}
			inv := v.Runs[0].Invocations[0]
			for _, n := range inv.ToolExecutionNotifications {
				if n.Level == "note" && n.Message.Text == note {
					return inv.ExecutionSuccessful
				}
			}
			return false
		}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			r := runWithin(t, 20*time.Second, []string{"--format", tt.format, dir}, nil)
			if r.code != 0 || !tt.check(r.out) {
				t.Errorf("exit %d, want 0 and the note\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.errOut)
			}
		})
	}
}
