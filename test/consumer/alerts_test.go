package consumer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// hook is a webhook receiver on loopback: it records every request and
// refuses them (503) while down.
type hook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down bool
	reqs []hookRequest
}

type hookRequest struct {
	key, auth string
	body      []byte
	accepted  bool
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		h.mu.Lock()
		defer h.mu.Unlock()
		h.reqs = append(h.reqs, hookRequest{key: r.Header.Get("Idempotency-Key"), auth: r.Header.Get("Authorization"), body: body, accepted: !h.down})
		if h.down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) setDown(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func (h *hook) accepted(t *testing.T) []alerts.Alert {
	t.Helper()
	sch, err := schemas.Get(schemas.AlertWebhook)
	if err != nil {
		t.Fatal(err)
	}
	var out []alerts.Alert
	for _, r := range h.requests() {
		if !r.accepted {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(r.body))
		d.UseNumber()
		var inst any
		if err := d.Decode(&inst); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("the body does not follow schemas/alert-webhook.schema.json: %v\n%s", err, r.body)
		}
		var a alerts.Alert
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
		if r.key != a.ID || r.auth != "Bearer hook-token" {
			t.Fatalf("headers: Idempotency-Key %q (body id %q), Authorization %q", r.key, a.ID, r.auth)
		}
		out = append(out, a)
	}
	return out
}

func resources(l alerts.List) string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.Resource.Name)
	}
	sort.Strings(out) // daprd delivers concurrently: the store's order is not the run's
	return strings.Join(out, ",")
}

// TestAlerts: the real consumer, fed through daprd, alerts a webhook once
// per complete run that changed something; an alert the receiver refused
// when the consumer stopped is sent after it starts again, with the same
// key; a run that changed nothing sends nothing.
func TestAlerts(t *testing.T) {
	h := newHook(t)
	dir := t.TempDir()
	urlFile, tokenFile, cfg := filepath.Join(dir, "url"), filepath.Join(dir, "token"), filepath.Join(dir, "alerts.yaml")
	for file, content := range map[string]string{
		urlFile:   h.srv.URL + "/hooks/violations?token=in-the-secret\n",
		tokenFile: "hook-token\n",
		cfg:       fmt.Sprintf("routes:\n- name: hook\n  webhook: {urlFile: %q, tokenFile: %q}\n  timeout: 2s\n", urlFile, tokenFile),
	} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, "sqlite://"+filepath.Join(dir, "v.db"), "--alerts-config", cfg)

	e.auditRun(runID(1), true, "a", "b")
	e.waitRun(runID(1), "finalized")
	e.eventually("the alert of run 1", 30*time.Second, func() error {
		if n := len(h.accepted(t)); n != 1 {
			return fmt.Errorf("%d alerts", n)
		}
		return nil
	})
	if a := h.accepted(t)[0]; !a.Run.Equal(runID(1)) || resources(a.New) != "a,b" || a.Resolved.Count != 0 || a.Cluster != "default" {
		t.Fatalf("run 1: %+v", a)
	}

	// The receiver is down for run 2; the consumer stops with the alert
	// pending and starts again once the receiver is back.
	h.setDown(true)
	e.auditRun(runID(2), true, "b", "c")
	e.waitRun(runID(2), "finalized")
	e.eventually("a refused attempt for run 2", 30*time.Second, func() error {
		if n := len(h.requests()); n < 2 {
			return fmt.Errorf("%d requests", n)
		}
		return nil
	})
	e.eventually("the pending alert in the metrics", 10*time.Second, func() error {
		if !metric(t, e, `violations_alerts_pending{route="hook"} 1`) {
			return fmt.Errorf("no violations_alerts_pending 1")
		}
		return nil
	})
	refused := h.requests()[1]
	e.consumer.App.Stop()
	h.setDown(false)
	e.consumer.Start()
	e.eventually("the alert of run 2 after the restart", 30*time.Second, func() error {
		if n := len(h.accepted(t)); n != 2 {
			return fmt.Errorf("%d alerts", n)
		}
		return nil
	})
	a2 := h.accepted(t)[1]
	if !a2.Run.Equal(runID(2)) || resources(a2.New) != "c" || resources(a2.Resolved) != "a" || a2.ID != refused.key {
		t.Fatalf("run 2: %+v, want c new, a resolved, key %s", a2, refused.key)
	}

	// Run 3 changes nothing; run 4 opens d: the next alert is run 4's.
	e.auditRun(runID(3), true, "b", "c")
	e.waitRun(runID(3), "finalized")
	e.auditRun(runID(4), true, "b", "c", "d")
	e.waitRun(runID(4), "finalized")
	e.eventually("the alert of run 4", 30*time.Second, func() error {
		if n := len(h.accepted(t)); n < 3 {
			return fmt.Errorf("%d alerts", n)
		}
		return nil
	})
	got := h.accepted(t)
	if len(got) != 3 || !got[2].Run.Equal(runID(4)) || resources(got[2].New) != "d" {
		t.Fatalf("after runs 3 and 4: %d alerts, last %+v; want run 4 with d (run 3 changed nothing)", len(got), got[len(got)-1])
	}
	if !metric(t, e, `violations_alerts_sent_total{route="hook"} 2`) {
		t.Errorf("violations_alerts_sent_total is not 2 since the restart")
	}
}
