// Package forward_test runs pubsub-forward as a process beside a real daprd
// and Redis, on files written as Gatekeeper v3.23's disk driver writes
// them, and a subscriber behind its own daprd that records every delivery:
// the same encoding as Gatekeeper's Dapr driver (the Go SDK's PublishEvent
// of the message's JSON), a restart after SIGKILL, Redis stopped.
package forward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward/disktest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
)

var forwardBin string

func TestMain(m *testing.M) { os.Exit(procstest.MainWithBuild(m, "./cmd/pubsub-forward", &forwardBin)) }

// delivery is one CloudEvent the subscriber's daprd delivered.
type delivery struct {
	Topic           string          `json:"topic"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// recorder is the subscribing app: it subscribes to topics and keeps every
// delivery.
type recorder struct {
	mu     sync.Mutex
	got    map[string][]delivery
	topics []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/dapr/subscribe" {
		var subs []map[string]string
		for _, t := range r.topics {
			subs = append(subs, map[string]string{"pubsubname": quickstart.Component, "topic": t, "route": "/" + t})
		}
		_ = json.NewEncoder(w).Encode(subs)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[d.Topic] = append(r.got[d.Topic], d)
	r.mu.Unlock()
	_, _ = io.WriteString(w, `{"status":"SUCCESS"}`)
}

func (r *recorder) deliveries(topic string) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got[topic]...)
}

// messages are the payloads delivered on topic, as the JSON each carried.
func (r *recorder) messages(t *testing.T, topic string) []string {
	t.Helper()
	var out []string
	for _, d := range r.deliveries(topic) {
		var s string
		if err := json.Unmarshal(d.Data, &s); err != nil {
			t.Fatalf("topic %s: data %s is not a JSON string (content type %s)", topic, d.Data, d.DataContentType)
		}
		out = append(out, s)
	}
	return out
}

type env struct {
	t      *testing.T
	redis  *procs.Redis
	audit  *procs.Daprd
	rec    *recorder
	writer *disktest.Writer
	fwd    *procs.App
	listen string
}

func newEnv(t *testing.T, topics ...string) *env {
	t.Helper()
	redis := procstest.StartRedis(t, procs.RedisOptions{Password: "forward-test"})
	secrets, err := quickstart.WriteSecrets(t.TempDir(), redis.Password)
	if err != nil {
		t.Fatal(err)
	}
	// Short redelivery, so a message daprd took while Redis went away
	// comes back within the test.
	resources := quickstart.ResourcesWith(redis.Addr, secrets, map[string]string{"redeliverInterval": "2s", "processingTimeout": "5s"})
	rec := &recorder{got: map[string][]delivery{}, topics: topics}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	procstest.StartDaprd(t, procs.DaprdOptions{AppID: "subscriber", AppPort: ln.Addr().(*net.TCPAddr).Port, Resources: resources, LogLevel: "warn"})
	audit := procstest.StartDaprd(t, procs.DaprdOptions{AppID: "audit", Resources: resources, LogLevel: "warn"})
	return &env{t: t, redis: redis, audit: audit, rec: rec, writer: &disktest.Writer{Path: filepath.Join(t.TempDir(), "topics"), Topic: "audit-channel", MaxAuditResults: 3}}
}

// startForwarder starts pubsub-forward with the sidecar's port from
// DAPR_GRPC_PORT, as the Dapr SDK reads it.
func (e *env) startForwarder(extra ...string) {
	e.t.Helper()
	if err := os.MkdirAll(e.writer.Path, 0o755); err != nil {
		e.t.Fatal(err)
	}
	port, err := procs.FreePort()
	if err != nil {
		e.t.Fatal(err)
	}
	e.listen = fmt.Sprintf("127.0.0.1:%d", port)
	args := append([]string{"--path", e.writer.Path, "--topic", e.writer.Topic, "--pubsub", quickstart.Component, "--listen", e.listen, "--poll", "50ms"}, extra...)
	app, err := procs.StartAppWith(procs.AppOptions{Name: "pubsub-forward", Path: forwardBin, Args: args,
		Env: []string{fmt.Sprintf("DAPR_GRPC_PORT=%d", e.audit.GRPCPort), "DAPR_GRPC_ENDPOINT="}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.fwd = app
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("pubsub-forward output:\n%s", app.Logs())
		}
		app.Stop()
	})
}

func (e *env) checkpoint() forward.Checkpoint {
	cp, err := forward.LoadCheckpoint(filepath.Join(filepath.Dir(e.writer.Path), ".pubsub-forward", "audit-channel.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	return cp
}

func eventually(t *testing.T, what string, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runLines are the lines of a run of n violations, as the driver writes
// them.
func runLines(t *testing.T, id string, n int) []string {
	t.Helper()
	w := &disktest.Writer{Path: t.TempDir(), Topic: "x", MaxAuditResults: 5}
	if err := w.Run(id, n); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(w.Dir(), strings.ReplaceAll(id, ":", "_")+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func runID(i int) string { return time.Date(2026, 12, 1, 10, i, 0, 0, time.UTC).Format(time.RFC3339) }

// TestSameAsDaprDriver: a run published as Gatekeeper's Dapr driver does
// and the same run written to disk and forwarded arrive identical: the
// same payloads, as JSON strings, with the same content type.
func TestSameAsDaprDriver(t *testing.T) {
	e := newEnv(t, "gatekeeper-way", "audit-channel")
	e.startForwarder()
	lines := runLines(t, runID(0), 50)
	client, err := daprclient.NewClientWithAddress(e.audit.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for _, l := range lines {
		// Gatekeeper v3.23's Dapr driver: json.Marshal, then PublishEvent.
		if err := client.PublishEvent(context.Background(), quickstart.Component, "gatekeeper-way", []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.writer.Run(runID(0), 50); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both topics delivered", time.Minute, func() error {
		if a, b := len(e.rec.deliveries("gatekeeper-way")), len(e.rec.deliveries("audit-channel")); a < len(lines) || b < len(lines) {
			return fmt.Errorf("%d and %d of %d", a, b, len(lines))
		}
		return nil
	})
	viaDapr, viaDisk := e.rec.messages(t, "gatekeeper-way"), e.rec.messages(t, "audit-channel")
	sort.Strings(viaDapr)
	sort.Strings(viaDisk)
	if strings.Join(viaDapr, "\n") != strings.Join(viaDisk, "\n") {
		t.Fatalf("payloads differ:\nDapr driver:\n%s\nforwarded:\n%s", strings.Join(viaDapr, "\n"), strings.Join(viaDisk, "\n"))
	}
	want := e.rec.deliveries("gatekeeper-way")[0].DataContentType
	for _, d := range e.rec.deliveries("audit-channel") {
		if d.DataContentType != want {
			t.Fatalf("forwarded content type %q, the Dapr driver's %q", d.DataContentType, want)
		}
	}
	// Health and metrics.
	resp, err := http.Get("http://" + e.listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"pubsub_forward_lines_sent_total 52", "pubsub_forward_runs_forwarded_total 1", "pubsub_forward_lag_lines 0", "gatekeeper_pubsub_publisher_published_total 52"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("metrics lack %q:\n%s", m, body)
		}
	}
}

// TestKilledAndRestarted: SIGKILL in the middle of a file; the restarted
// forwarder resumes from its checkpoint: nothing lost, at most one batch
// sent twice. A .txt left by a killed audit is forwarded too.
func TestKilledAndRestarted(t *testing.T) {
	const n, batch = 20000, 500
	e := newEnv(t, "audit-channel")
	e.startForwarder("--batch-lines", fmt.Sprint(batch))
	if err := e.writer.Run(runID(0), n); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a checkpoint inside the run", time.Minute, func() error {
		if cp := e.checkpoint(); cp.Offset == 0 || cp.Done {
			return fmt.Errorf("checkpoint %+v", cp)
		}
		return nil
	})
	e.fwd.Kill()
	// A crashed audit: the next run starts and is never completed; then
	// another run begins.
	if err := e.writer.Start(runID(1)); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := e.writer.Write(disktest.Violation(runID(1), i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.writer.Crash(); err != nil {
		t.Fatal(err)
	}
	if err := e.writer.Run(runID(2), 5); err != nil {
		t.Fatal(err)
	}
	e.startForwarder("--batch-lines", fmt.Sprint(batch))
	want := append(append(runLines(t, runID(0), n), runLines(t, runID(1), 10)[:11]...), runLines(t, runID(2), 5)...)
	eventually(t, "every line delivered", 2*time.Minute, func() error {
		if missing := missingLines(t, e.rec, want); missing > 0 {
			return fmt.Errorf("%d of %d lines missing", missing, len(want))
		}
		if cp := e.checkpoint(); cp.Run != strings.ReplaceAll(runID(2), ":", "_") || !cp.Done {
			return fmt.Errorf("checkpoint %+v", cp)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // late duplicates
	counts := map[string]int{}
	for _, m := range e.rec.messages(t, "audit-channel") {
		counts[m]++
	}
	twice := 0
	for _, l := range want {
		if counts[l] > 1 {
			twice++
		}
	}
	if twice > batch {
		t.Fatalf("%d lines sent twice, more than one batch (%d)", twice, batch)
	}
	t.Logf("after SIGKILL: %d lines, %d sent twice (batch %d)", len(want), twice, batch)
}

// TestBrokerDown: Redis stopped while a run is written: the forwarder
// falls behind, is not ready, and catches up once Redis is back; nothing
// is lost.
func TestBrokerDown(t *testing.T) {
	const n = 2000
	e := newEnv(t, "audit-channel")
	e.startForwarder("--batch-lines", "200")
	if err := e.writer.Run(runID(0), 10); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first run delivered", time.Minute, func() error {
		if got := len(e.rec.deliveries("audit-channel")); got < 12 {
			return fmt.Errorf("%d of 12", got)
		}
		return nil
	})
	e.redis.Pause()
	if err := e.writer.Run(runID(1), n); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the forwarder reports its lag", 30*time.Second, func() error {
		resp, err := http.Get("http://" + e.listen + "/metrics")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "pubsub_forward_lag_lines 0\n") || !strings.Contains(string(body), "pubsub_forward_lag_lines") {
			return fmt.Errorf("no lag in the metrics")
		}
		return nil
	})
	time.Sleep(10 * time.Second)
	if err := e.redis.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := append(runLines(t, runID(0), 10), runLines(t, runID(1), n)...)
	eventually(t, "every line delivered after Redis came back", 3*time.Minute, func() error {
		if missing := missingLines(t, e.rec, want); missing > 0 {
			return fmt.Errorf("%d of %d lines missing", missing, len(want))
		}
		return nil
	})
}

// missingLines counts the lines of want not delivered.
func missingLines(t *testing.T, rec *recorder, want []string) int {
	t.Helper()
	got := map[string]bool{}
	for _, m := range rec.messages(t, "audit-channel") {
		got[m] = true
	}
	missing := 0
	for _, l := range want {
		if !got[l] {
			missing++
		}
	}
	return missing
}
