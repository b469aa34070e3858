package cluster_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
)

// alertHook is a webhook on loopback that the consumer's pod (a process of
// the kubelet stand-in) posts its alerts to.
type alertHook struct {
	url    string
	mu     sync.Mutex
	alerts []alerts.Alert
}

func newAlertHook(t *testing.T) *alertHook {
	t.Helper()
	h := &alertHook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alerts.Alert
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(b, &a); err != nil || r.URL.Query().Get("token") != "in-the-secret" {
			http.Error(w, "not an alert with the token", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.alerts = append(h.alerts, a)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

// wait returns the first alert received that f accepts.
func (h *alertHook) wait(t *testing.T, f func(alerts.Alert) bool) alerts.Alert {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h.mu.Lock()
		got := append([]alerts.Alert(nil), h.alerts...)
		h.mu.Unlock()
		for _, a := range got {
			if f(a) {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such alert among the %d received: %+v", len(got), got)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
