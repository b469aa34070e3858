package forward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward/disktest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
)

// recorder stands in for the publisher in these unit tests of the file
// following (the real one, through daprd and Redis, is test/forward's): it
// keeps what was published and can refuse, as a broker that is down does.
type recorder struct {
	mu      sync.Mutex
	pending []dapr.Message
	sent    []string
	refuse  bool
	lost    int64
}

func (r *recorder) Publish(_ context.Context, data any, topic string) error {
	m, ok := data.(dapr.Message)
	if !ok || topic != "audit-channel" || m.ContentType != dapr.GatekeeperContentType {
		return fmt.Errorf("published %T %+v to %s", data, data, topic)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, m)
	return nil
}

func (r *recorder) Flush(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse {
		r.lost += int64(len(r.pending))
	} else {
		for _, m := range r.pending {
			r.sent = append(r.sent, string(m.Data))
		}
	}
	r.pending = nil
	return nil
}

func (r *recorder) Stats() queue.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return queue.Stats{Failed: map[string]int64{"refused": r.lost}}
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

func (r *recorder) setRefuse(v bool) {
	r.mu.Lock()
	r.refuse = v
	r.mu.Unlock()
}

type env struct {
	t   *testing.T
	w   *disktest.Writer
	rec *recorder
	cp  string
	m   *forward.Metrics
}

func newEnv(t *testing.T, maxResults int) *env {
	dir := t.TempDir()
	return &env{t: t, w: &disktest.Writer{Path: dir, Topic: "audit-channel", MaxAuditResults: maxResults}, rec: &recorder{},
		cp: filepath.Join(dir, ".pubsub-forward", "audit-channel.json"), m: forward.NewMetrics(nil)}
}

// start runs a forwarder until the test ends or stop is called.
func (e *env) start(batch int) (stop func()) { return e.startSettle(batch, 0) }

func (e *env) startSettle(batch int, settle time.Duration) (stop func()) {
	e.t.Helper()
	if err := os.MkdirAll(filepath.Dir(e.cp), 0o750); err != nil {
		e.t.Fatal(err)
	}
	f, err := forward.New(forward.Options{Dir: e.w.Dir(), Topic: "audit-channel", Checkpoint: e.cp, Publisher: e.rec,
		Poll: 5 * time.Millisecond, BatchLines: batch, MaxLineBytes: 4096, MaxBackoff: 20 * time.Millisecond, Metrics: e.m, Settle: settle})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("forwarder: %v", err)
		}
	}
	e.t.Cleanup(stop)
	return stop
}

func (e *env) waitLines(n int) []string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.rec.lines()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d lines sent, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runID(i int) string { return time.Date(2026, 12, 1, 10, i, 0, 0, time.UTC).Format(time.RFC3339) }

// want is what a run of n violations sends: its markers and violations.
func want(id string, n int) []string {
	out := []string{fmt.Sprintf(`{"id":%q,"message":"audit is started"}`, id)}
	for i := range n {
		b, _ := json.Marshal(disktest.Violation(id, i))
		out = append(out, string(b))
	}
	return append(out, fmt.Sprintf(`{"id":%q,"message":"audit is completed"}`, id))
}

func TestForward(t *testing.T) {
	for _, tc := range []struct {
		name string
		// scenario writes runs and returns the lines that must arrive, in
		// order (with dup, lines may come twice).
		scenario func(t *testing.T, e *env) []string
	}{
		{"runs in order, markers included", func(t *testing.T, e *env) []string {
			e.start(7)
			var all []string
			for i := range 3 {
				if err := e.w.Run(runID(i), 20); err != nil {
					t.Fatal(err)
				}
				all = append(all, want(runID(i), 20)...)
			}
			return all
		}},
		{"a run followed while written, across the rename", func(t *testing.T, e *env) []string {
			e.start(3)
			id := runID(0)
			if err := e.w.Start(id); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if err := e.w.Write(disktest.Violation(id, i)); err != nil {
					t.Fatal(err)
				}
			}
			e.waitLines(11) // read while still .txt and locked
			if err := e.w.WriteRaw([]byte(`{"id":"` + id + `","half":`)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // the half line is not sent
			if err := e.w.WriteRaw([]byte("1}\n")); err != nil {
				t.Fatal(err)
			}
			if err := e.w.Complete(id); err != nil {
				t.Fatal(err)
			}
			w := want(id, 10)
			return append(append(w[:11:11], `{"id":"`+id+`","half":1}`), w[11:]...)
		}},
		{"a crashed audit's .txt is forwarded once a newer run begins", func(t *testing.T, e *env) []string {
			e.start(1000)
			if err := e.w.Start(runID(0)); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if err := e.w.Write(disktest.Violation(runID(0), i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.w.WriteRaw([]byte(`{"torn`)); err != nil {
				t.Fatal(err)
			}
			if err := e.w.Crash(); err != nil {
				t.Fatal(err)
			}
			if err := e.w.Run(runID(1), 3); err != nil {
				t.Fatal(err)
			}
			return append(want(runID(0), 5)[:6], want(runID(1), 3)...)
		}},
		{"resumes from the checkpoint after a restart", func(t *testing.T, e *env) []string {
			stop := e.start(4)
			if err := e.w.Run(runID(0), 10); err != nil {
				t.Fatal(err)
			}
			e.waitLines(12)
			stop()
			if err := e.w.Run(runID(1), 10); err != nil {
				t.Fatal(err)
			}
			e.start(4)
			return append(want(runID(0), 10), want(runID(1), 10)...)
		}},
		{"a refused batch is sent again, nothing skipped", func(t *testing.T, e *env) []string {
			e.rec.setRefuse(true)
			e.start(5)
			if err := e.w.Run(runID(0), 12); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if got := e.rec.lines(); len(got) != 0 {
				t.Fatalf("sent %d lines while refused", len(got))
			}
			e.rec.setRefuse(false)
			return want(runID(0), 12)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 5)
			wantLines := tc.scenario(t, e)
			e.waitLines(len(wantLines))
			time.Sleep(50 * time.Millisecond)
			got := e.rec.lines()
			if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
				t.Fatalf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
			}
			cp, err := forward.LoadCheckpoint(e.cp)
			if err != nil {
				t.Fatal(err)
			}
			if !cp.Done {
				t.Errorf("checkpoint %+v: the last run not done", cp)
			}
		})
	}
}

// TestRotatedAwayIsLost: runs the driver deleted before they were sent are
// counted and the forwarder goes on with the oldest present.
func TestRotatedAwayIsLost(t *testing.T) {
	e := newEnv(t, 2)
	reg := prometheus.NewRegistry()
	e.m = forward.NewMetrics(reg)
	e.rec.setRefuse(true)
	e.start(1000)
	for i := range 4 {
		if err := e.w.Run(runID(i), 3); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	e.rec.setRefuse(false)
	got := e.waitLines(10)
	time.Sleep(50 * time.Millisecond)
	wantLines := append(want(runID(2), 3), want(runID(3), 3)...)
	if strings.Join(got, "\n") != strings.Join(e.rec.lines(), "\n") || strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
		t.Fatalf("sent:\n%s\nwant the two runs kept:\n%s", strings.Join(e.rec.lines(), "\n"), strings.Join(wantLines, "\n"))
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP pubsub_forward_runs_lost_total Audit runs whose file the disk driver deleted before they were sent entirely.
# TYPE pubsub_forward_runs_lost_total counter
pubsub_forward_runs_lost_total 2
`), "pubsub_forward_runs_lost_total"); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
	}{
		{"not JSON", "{", "delete it to start over"},
		{"negative offset", `{"run":"x","offset":-1}`, "not a position"},
		{"too large", strings.Repeat(" ", 70<<10), "not a checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := forward.LoadCheckpoint(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and %q", err, p, tc.want)
			}
		})
	}
}

// TestSettle: the lines of a run being written wait until its file stops
// growing for the settle time; a completed run goes at once.
func TestSettle(t *testing.T) {
	e := newEnv(t, 5)
	e.startSettle(1000, 300*time.Millisecond)
	id := runID(0)
	if err := e.w.Start(id); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := e.w.Write(disktest.Violation(id, i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // growing for 400 ms
	}
	if got := e.rec.lines(); len(got) != 0 {
		t.Fatalf("%d lines sent while the run grew", len(got))
	}
	e.waitLines(21) // settled
	if err := e.w.Complete(id); err != nil {
		t.Fatal(err)
	}
	if got := e.waitLines(22); strings.Join(got, "\n") != strings.Join(want(id, 20), "\n") {
		t.Fatalf("sent:\n%s", strings.Join(got, "\n"))
	}
}
