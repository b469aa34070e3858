package lint_bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// BenchmarkLintComponentsMemory lints one file of many Dapr Components (the
// shape of a large GitOps repository's rendered output) with the
// pubsub-lint binary in a process of its own, and prints its peak memory
// per 1,000 objects:
//
//	lint-memory: components=N file_mb=F peak_rss_mb=M mb_per_1000=R
//
// BENCH_LINT_COMPONENTS sets N (default 100,000). The target is at most
// 2 MB per 1,000 objects: files are read as they are decoded, Components
// are kept as a small model without their text, and per-object rules run
// while each object's tree is there (internal/lint's reader).
func BenchmarkLintComponentsMemory(b *testing.B) {
	n := 100000
	if _, err := fmt.Sscan(os.Getenv("BENCH_LINT_COMPONENTS"), &n); err != nil || n <= 0 {
		n = 100000
	}
	root, err := procs.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "pubsub-lint")
	build := exec.Command("go", "build", "-o", bin, "./cmd/pubsub-lint")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/pubsub-lint: %v\n%s", err, out)
	}
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, `---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub-%d
  namespace: ns-%d
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: redis-%d.default.svc.cluster.local:6379
    - name: redisPassword
      secretKeyRef:
        name: redis
        key: redis-password
    - name: enableTLS
      value: "false"
`, i, i%50, i)
	}
	file := filepath.Join(dir, "components.yaml")
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	// The same objects as a file and on standard input (spooled to a
	// temporary file so that released Components' text can go too).
	for _, in := range []struct{ name, stdin, path string }{{"file", "", file}, {"stdin", file, "-"}} {
		start := time.Now()
		peak, out, err := peakRSS(in.stdin, bin, "--max-input-bytes", "1Gi", in.path)
		if err != nil {
			b.Fatalf("pubsub-lint (%s): %v\n%s", in.name, err, out)
		}
		fmt.Printf("lint-memory: input=%s components=%d file_mb=%.1f seconds=%.2f peak_rss_mb=%.1f mb_per_1000=%.2f\n",
			in.name, n, float64(sb.Len())/(1<<20), time.Since(start).Seconds(), peak, peak/float64(n)*1000)
	}
}

// measureEnv makes this test binary run the command in it (a JSON list)
// and print its peak RSS, instead of running tests (TestMain).
const measureEnv = "LINT_MEMORY_MEASURE"

// peakRSS runs a command and returns its peak resident set size in MB.
//
// It is not the ru_maxrss of a child of this process: Go starts children
// with CLONE_VM, and Linux then counts the parent's own high-water mark
// into the child's (exec records the shared mm's peak), so a benchmark
// process holding a 35 MB corpus and what earlier benchmarks left would
// be measured, not pubsub-lint. Instead this test binary is started again
// as a small process that only starts the command and reports its child's
// ru_maxrss, which then starts from that small process's few MB.
// stdin, when not "", is the file the command reads on standard input.
func peakRSS(stdin, name string, args ...string) (float64, []byte, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, nil, err
	}
	argv, err := json.Marshal(append([]string{name}, args...))
	if err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), measureEnv+"="+string(argv))
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return 0, nil, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, stderr.Bytes(), fmt.Errorf("measuring %s: %w", name, err)
	}
	var kb float64
	if _, err := fmt.Sscanf(string(out), "maxrss_kb=%f", &kb); err != nil {
		return 0, stderr.Bytes(), fmt.Errorf("measuring %s: %q: %w", name, out, err)
	}
	return kb / 1024, stderr.Bytes(), nil
}

// measure runs the command of measureEnv with its output on stderr and
// prints its ru_maxrss; the exit code is 0 when the command exited 0 or 1
// (findings).
func measure(argvJSON string) int {
	var argv []string
	if err := json.Unmarshal([]byte(argvJSON), &argv); err != nil || len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "bad", measureEnv, err)
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stderr, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() > 1 {
		fmt.Fprintln(os.Stderr, argv[0]+":", err)
		return 2
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "no resource usage for", argv[0])
		return 2
	}
	fmt.Printf("maxrss_kb=%d\n", ru.Maxrss) // kB on Linux
	return 0
}

func TestMain(m *testing.M) {
	if argv := os.Getenv(measureEnv); argv != "" {
		os.Exit(measure(argv))
	}
	os.Exit(m.Run())
}
