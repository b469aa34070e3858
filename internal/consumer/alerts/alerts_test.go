package alerts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// receiver is a real HTTP server on loopback that records what it is sent
// and answers as told.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	// answer decides the status of the n-th request (from 1); hang makes
	// it wait until the client gives up.
	answer func(n int) (status int, hang bool)
	got    []request
}

type request struct {
	key, auth, contentType string
	body                   []byte
	status                 int
}

func newReceiver(t *testing.T, answer func(n int) (int, bool)) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got) + 1
		status, hang := r.answer(n)
		if hang {
			status = 0 // never answered
		}
		r.got = append(r.got, request{key: req.Header.Get("Idempotency-Key"), auth: req.Header.Get("Authorization"),
			contentType: req.Header.Get("Content-Type"), body: body, status: status})
		r.mu.Unlock()
		if hang {
			<-req.Context().Done()
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// accepted returns the bodies answered 2xx.
func (r *receiver) accepted() []request {
	var out []request
	for _, q := range r.requests() {
		if q.status/100 == 2 {
			out = append(out, q)
		}
	}
	return out
}

func always(status int) func(int) (int, bool) { return func(int) (int, bool) { return status, false } }

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func runAt(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// auditRun records a complete run of the given "namespace/name" resources
// and finalizes it.
func auditRun(t *testing.T, s store.Store, run time.Time, resources ...string) {
	t.Helper()
	msgs := []store.Message{{Kind: store.KindStarted, Run: run}}
	for _, r := range resources {
		ns, name, _ := strings.Cut(r, "/")
		msgs = append(msgs, store.Message{Kind: store.KindViolation, Run: run, Violation: violation.Violation{
			ID: run.Format(time.RFC3339), EventType: violation.EventType,
			Group: "constraints.gatekeeper.sh", Version: "v1beta1", Kind: "K8sRequiredLabels", Name: "must-have-owner",
			Message: "missing owner <@here> & more", EnforcementAction: "deny",
			ResourceAPIVersion: "v1", ResourceKind: "ConfigMap", ResourceNamespace: ns, ResourceName: name,
		}})
	}
	msgs = append(msgs, store.Message{Kind: store.KindCompleted, Run: run})
	ctx := context.Background()
	if _, err := s.Record(ctx, "prod", msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finalize(ctx, "prod", run, store.FinalizeOptions{ResolveAfter: 1, MaxResolveShare: 1, Now: run.Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// start runs an alerter until the test ends or stop is called.
func start(t *testing.T, s store.Store, cfg string) (stop func()) {
	t.Helper()
	c, err := alerts.Parse("alerts.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	a, err := alerts.New(alerts.Options{Config: c, Cluster: "prod", Store: s, Metrics: metrics.New(nil, nil),
		Poll: 20 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The first plan places the cluster's cursor: runs complete before it
	// are history, not alerted.
	if err := a.Plan(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func decode(t *testing.T, b []byte) alerts.Alert {
	t.Helper()
	sch, err := schemas.Get(schemas.AlertWebhook)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonValue(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the body does not follow schemas/alert-webhook.schema.json: %v\n%s", err, b)
	}
	var a alerts.Alert
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func jsonValue(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	return v, d.Decode(&v)
}

func names(l alerts.List) string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.Resource.Namespace+"/"+it.Resource.Name)
	}
	return strings.Join(out, ",")
}

// TestDelivery: one message per route and complete run, on change only;
// a receiver that fails or hangs delays only its own route and gets the
// same alert again, with the same key, until it accepts it.
func TestDelivery(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	defer s.Close()
	ok := newReceiver(t, always(http.StatusOK))
	teamA := newReceiver(t, always(http.StatusNoContent))
	// flaky answers 500 and hangs does not answer until released: the
	// healthy routes must be delivered while they are down.
	released := make(chan struct{})
	isReleased := func() bool {
		select {
		case <-released:
			return true
		default:
			return false
		}
	}
	flaky := newReceiver(t, func(int) (int, bool) {
		if isReleased() {
			return http.StatusOK, false
		}
		return http.StatusInternalServerError, false
	})
	hangs := newReceiver(t, func(int) (int, bool) { return http.StatusOK, !isReleased() })
	stop := start(t, s, fmt.Sprintf(`routes:
- name: all
  webhook: {url: %q}
- name: team-a
  webhook: {url: %q}
  match: {namespaces: ["team-a-*"]}
  maxItems: 1
- name: flaky
  webhook: {url: %q}
- name: hangs
  webhook: {url: %q}
  timeout: 300ms
`, ok.srv.URL, teamA.srv.URL, flaky.srv.URL, hangs.srv.URL))

	auditRun(t, s, runAt(1), "team-a-web/a1", "team-a-web/a2", "team-b/b1")
	eventually(t, "the healthy routes have run 1", func() bool { return len(ok.accepted()) == 1 && len(teamA.accepted()) == 1 })
	eventually(t, "the failing routes were tried twice", func() bool { return len(flaky.requests()) >= 2 && len(hangs.requests()) >= 2 })
	if n := len(flaky.accepted()) + len(hangs.accepted()); n != 0 {
		t.Fatalf("the failing routes were delivered before their receivers recovered (%d)", n)
	}
	close(released)
	all := decode(t, ok.accepted()[0].body)
	if all.Route != "all" || all.Cluster != "prod" || !all.Run.Equal(runAt(1)) || all.RunState != store.RunFinalized ||
		all.New.Count != 3 || names(all.New) != "team-a-web/a1,team-a-web/a2,team-b/b1" || all.Resolved.Count != 0 {
		t.Errorf("route all, run 1: %+v", all)
	}
	a := decode(t, teamA.accepted()[0].body)
	if a.New.Count != 2 || len(a.New.Items) != 1 || a.New.Omitted != 1 || names(a.New) != "team-a-web/a1" {
		t.Errorf("route team-a cut to one item: new %+v", a.New)
	}
	eventually(t, "the flaky and hanging routes deliver run 1", func() bool { return len(flaky.accepted()) == 1 && len(hangs.accepted()) == 1 })
	for _, r := range []*receiver{flaky, hangs} {
		reqs := r.requests()
		if len(reqs) < 2 {
			t.Fatalf("%d requests, want a failed one and a retry", len(reqs))
		}
		for _, q := range reqs {
			if q.key != reqs[0].key || !bytes.Equal(q.body, reqs[0].body) || q.contentType != "application/json" {
				t.Errorf("a retry differs: key %q body %s, first %q %s", q.key, q.body, reqs[0].key, reqs[0].body)
			}
		}
		if got := decode(t, reqs[0].body).ID; got != reqs[0].key || got != alerts.Key(decode(t, reqs[0].body).Route, "prod", runAt(1)) {
			t.Errorf("body id %q, header %q: want the same idempotency key", got, reqs[0].key)
		}
	}

	// Run 2 changes nothing for team-a: only the others hear of b2 and b1.
	auditRun(t, s, runAt(2), "team-a-web/a1", "team-a-web/a2", "team-b/b2")
	eventually(t, "route all has run 2", func() bool { return len(ok.accepted()) == 2 })
	r2 := decode(t, ok.accepted()[1].body)
	if names(r2.New) != "team-b/b2" || names(r2.Resolved) != "team-b/b1" || r2.Resolved.Items[0].Reason != store.ReasonAbsent {
		t.Errorf("run 2: new %s resolved %s", names(r2.New), names(r2.Resolved))
	}
	// Run 3 changes nothing at all: no message anywhere.
	auditRun(t, s, runAt(3), "team-a-web/a1", "team-a-web/a2", "team-b/b2")
	eventually(t, "the flaky route has run 2", func() bool { return len(flaky.accepted()) == 2 })
	// Every route's alerts leave the outbox once its receiver took them
	// (the hanging route's retry comes after its timeout and a backoff).
	eventually(t, "no alert is pending", func() bool {
		pending, err := s.PendingAlerts(context.Background())
		return err == nil && pending["hangs"]+pending["all"]+pending["flaky"]+pending["team-a"] == 0
	})
	stop()
	if n := len(teamA.accepted()); n != 1 {
		t.Errorf("route team-a got %d messages, want 1 (runs 2 and 3 changed nothing it selects)", n)
	}
	if n := len(ok.accepted()); n != 2 {
		t.Errorf("route all got %d messages, want 2 (run 3 changed nothing)", n)
	}
	if n := len(hangs.accepted()); n != 2 {
		t.Errorf("route hangs got %d messages, want 2", n)
	}
}

// TestRestart: alerts pending when the consumer stops are sent after it
// starts again, from the store.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	var mu sync.Mutex
	down := true
	rcv := newReceiver(t, func(int) (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable, false
		}
		return http.StatusOK, false
	})
	cfg := fmt.Sprintf("routes:\n- name: hook\n  webhook: {url: %q}\n", rcv.srv.URL)
	s := openStore(t, path)
	stop := start(t, s, cfg)
	auditRun(t, s, runAt(1), "ns/a")
	auditRun(t, s, runAt(2), "ns/b")
	eventually(t, "the receiver refused run 1 twice", func() bool { return len(rcv.requests()) >= 2 })
	stop()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	down = false
	mu.Unlock()
	s = openStore(t, path)
	defer s.Close()
	start(t, s, cfg)
	eventually(t, "both runs are delivered after the restart", func() bool { return len(rcv.accepted()) == 2 })
	got := rcv.accepted()
	if r1, r2 := decode(t, got[0].body), decode(t, got[1].body); !r1.Run.Equal(runAt(1)) || !r2.Run.Equal(runAt(2)) ||
		names(r1.New) != "ns/a" || names(r2.New) != "ns/b" || names(r2.Resolved) != "ns/a" {
		t.Errorf("after restart: %+v then %+v, want runs 1 and 2 in order", r1, r2)
	}
	if got[0].key != rcv.requests()[0].key {
		t.Errorf("the key changed across the restart: %q then %q", rcv.requests()[0].key, got[0].key)
	}
}

// TestSlack: Slack gets blocks, with mrkdwn's markup characters escaped so
// a violation message cannot mention @here or make a link, and the rest
// of a cut list counted.
func TestSlack(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	defer s.Close()
	rcv := newReceiver(t, always(http.StatusOK))
	url := filepath.Join(t.TempDir(), "slack-url")
	if err := writeFile(url, rcv.srv.URL+"/services/T000/B000/XXXX\n"); err != nil {
		t.Fatal(err)
	}
	start(t, s, fmt.Sprintf("routes:\n- name: slack\n  slack: {urlFile: %q}\n  maxItems: 2\n", url))
	auditRun(t, s, runAt(1), "ns/a", "ns/b", "ns/c")
	eventually(t, "slack got run 1", func() bool { return len(rcv.accepted()) == 1 })
	body := rcv.accepted()[0].body
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "3 new, 0 resolved") || msg.Blocks[0]["type"] != "header" {
		t.Errorf("summary %q, first block %v", msg.Text, msg.Blocks[0])
	}
	s2 := string(body)
	if strings.Contains(s2, "<@here>") || !strings.Contains(s2, `\u0026lt;@here\u0026gt; \u0026amp; more`) {
		t.Errorf("the message's markup is not escaped:\n%s", body)
	}
	if !strings.Contains(s2, "and 1 more new") {
		t.Errorf("the cut list does not count the rest:\n%s", body)
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
