// Package lint_bench measures pubsub-lint's throughput on a generated
// corpus: 50,000 objects in 5,000 files, mostly unrelated workloads with
// pubsub setups among them. It prints a last line
//
//	lint-throughput: objects=N seconds=S objects_per_s=R peak_rss_mb=M
package lint_bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

const (
	objectsPerFile = 10
	setupEvery     = 50 // every 50th file holds a pubsub setup
)

// files is 5,000 (50,000 objects) unless BENCH_LINT_FILES says otherwise,
// to compare memory across corpus sizes.
var files = func() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("BENCH_LINT_FILES"), &n); err == nil && n > 0 {
		return n
	}
	return 5000
}()

func BenchmarkLint(b *testing.B) {
	dir := b.TempDir()
	if err := generate(dir); err != nil {
		b.Fatal(err)
	}
	var res *lint.Result
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var err error
		res, err = lint.Run(context.Background(), lint.Options{Paths: []string{dir}})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.StopTimer()
	if res.Objects != files*objectsPerFile {
		b.Fatalf("linted %d objects, want %d", res.Objects, files*objectsPerFile)
	}
	secs := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(float64(res.Objects)/secs, "objects/s")
	fmt.Printf("lint-throughput: objects=%d seconds=%.3f objects_per_s=%.0f peak_rss_mb=%.1f\n",
		res.Objects, secs, float64(res.Objects)/secs, peakRSSMB())
}

// generate writes the corpus: file i has objectsPerFile objects.
func generate(dir string) error {
	for i := 0; i < files; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("team-%03d", i%100))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		var sb strings.Builder
		ns := fmt.Sprintf("team-%03d", i%100)
		n := 0
		if i == 0 {
			sb.WriteString(auditSetup)
			n += 3
		} else if i%setupEvery == 0 {
			fmt.Fprintf(&sb, subscriberSetup, ns, ns, ns)
			n += 2
		}
		for ; n < objectsPerFile; n++ {
			name := fmt.Sprintf("app-%d-%d", i, n)
			switch n % 3 {
			case 0:
				fmt.Fprintf(&sb, deployment, name, ns, name, name, name, name)
			case 1:
				fmt.Fprintf(&sb, service, name, ns, name)
			default:
				fmt.Fprintf(&sb, configMap, name, ns, i, n)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.yaml", i)), []byte(sb.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// peakRSSMB reads VmHWM from /proc/self/status.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

const deployment = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
  labels:
    app: %s
spec:
  replicas: 2
  selector:
    matchLabels:
      app: %s
  template:
    metadata:
      labels:
        app: %s
    spec:
      containers:
      - name: app
        image: example/%s:1.0.0
        args: ["--port=8080", "--log-level=info"]
        ports:
        - containerPort: 8080
        resources:
          requests:
            cpu: 50m
            memory: 64Mi
`

const service = `---
apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: %s
spec:
  selector:
    app: %s
  ports:
  - port: 80
    targetPort: 8080
`

const configMap = `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
data:
  settings.json: '{"file": %d, "object": %d}'
`

const subscriberSetup = `---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
  namespace: %s
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: redis-master.default.svc.cluster.local:6379
  - name: redisPassword
    secretKeyRef: {name: redis, key: redis-password}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sub
  namespace: %s
spec:
  selector:
    matchLabels: {app: sub}
  template:
    metadata:
      labels: {app: sub}
      annotations: {dapr.io/enabled: "true", dapr.io/app-id: "sub-%s"}
    spec:
      containers:
      - name: go-sub
        image: fake-subscriber:latest
        env:
        - {name: AUDIT_CHANNEL, value: audit-channel}
`

const auditSetup = `---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
  namespace: gatekeeper-system
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: redis-master.default.svc.cluster.local:6379
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: audit-connection
  namespace: gatekeeper-system
data:
  provider: dapr
  config: '{"component": "pubsub"}'
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gatekeeper-audit
  namespace: gatekeeper-system
spec:
  selector:
    matchLabels: {control-plane: audit-controller}
  template:
    metadata:
      labels: {control-plane: audit-controller}
      annotations:
        dapr.io/enabled: "true"
        dapr.io/app-id: "audit"
        dapr.io/sidecar-seccomp-profile-type: "RuntimeDefault"
    spec:
      containers:
      - name: manager
        image: openpolicyagent/gatekeeper:v3.18.3
        args: ["--operation=audit", "--enable-pub-sub=true", "--audit-connection=audit-connection", "--audit-channel=audit-channel"]
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
          runAsNonRoot: true
          seccompProfile: {type: RuntimeDefault}
`
