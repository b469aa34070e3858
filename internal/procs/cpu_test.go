package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTreeCPU(t *testing.T) {
	const busy = `i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); done`
	for _, tc := range []struct {
		name, script string
		// want is whether the tree's CPU time must reach 200 ms.
		want bool
	}{
		{"live child", busy + " & sleep 30", true},
		// The marker file tells the child has exited and been waited for.
		{"reaped child", "sh -c '" + busy + "'; touch \"$MARKER\"; sleep 30", true},
		{"idle", "sleep 30", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "reaped")
			cmd := exec.Command("sh", "-c", tc.script)
			cmd.Env = append(os.Environ(), "MARKER="+marker)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			})
			var got time.Duration
			// A busy script gets up to 20 s on a loaded machine; an idle
			// one is watched for a second.
			wait := time.Second
			if tc.want {
				wait = 20 * time.Second
			}
			for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				var err error
				if got, err = TreeCPU(cmd.Process.Pid); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(marker); tc.name == "reaped child" && err != nil {
					continue
				}
				if got >= 200*time.Millisecond {
					break
				}
			}
			if reached := got >= 200*time.Millisecond; reached != tc.want {
				t.Fatalf("CPU time %v after the script ran; want it to reach 200ms: %v", got, tc.want)
			}
		})
	}
}

func TestStatCPUMalformed(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, stat, want string }{
		{"no command", "12 sh S 1", "no command name"},
		{"short", "12 (sh) S 1 2 3", "fields after the command name"},
		{"not a number", "12 (a b) S 1 1 1 0 -1 0 0 0 0 0 x 1 0 0", `CPU time "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(tc.stat), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := statCPU(path, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and %q", err, path, tc.want)
			}
		})
	}
}
