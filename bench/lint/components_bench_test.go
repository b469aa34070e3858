package lint_bench

import (
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
// while each object's tree is there (pkg/lint's reader).
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
	start := time.Now()
	cmd := exec.Command(bin, "--max-input-bytes", "1Gi", file)
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() > 1 {
		b.Fatalf("pubsub-lint: %v\n%s", err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no resource usage for the pubsub-lint process")
	}
	peak := float64(ru.Maxrss) / 1024 // kB on Linux
	fmt.Printf("lint-memory: components=%d file_mb=%.1f seconds=%.2f peak_rss_mb=%.1f mb_per_1000=%.2f\n",
		n, float64(sb.Len())/(1<<20), time.Since(start).Seconds(), peak, peak/float64(n)*1000)
}
