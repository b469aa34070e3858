package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
)

// hook is the demo's alert webhook: a loopback HTTP server that keeps the
// bodies the consumer posts.
type hook struct {
	url    string
	srv    *http.Server
	mu     sync.Mutex
	bodies [][]byte
}

func startHook() (*hook, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the demo's alert webhook: %w", err)
	}
	h := &hook{url: "http://" + ln.Addr().String() + "/alerts"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /alerts", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *hook) Close() { _ = h.srv.Close() }

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

// waitResolved waits for an alert that resolved n violations and returns
// it indented.
func (h *hook) waitResolved(ctx context.Context, n int) (string, error) {
	for {
		h.mu.Lock()
		for _, b := range h.bodies {
			var a alerts.Alert
			if json.Unmarshal(b, &a) == nil && a.Resolved.Count == n {
				h.mu.Unlock()
				out, err := json.MarshalIndent(a, "  ", "  ")
				return "  " + string(out), err
			}
		}
		got := len(h.bodies)
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", errors.Join(fmt.Errorf("no alert resolving %d violations among the %d the webhook received", n, got), ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
