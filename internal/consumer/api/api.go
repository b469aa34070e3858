// Package api serves what the violations consumer knows, read-only: the
// violations with filters and cursor paging, one violation's timeline, the
// runs, health, readiness and Prometheus metrics.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// ViolationList is the answer of GET /api/v1/violations.
type ViolationList struct {
	Items []store.Violation `json:"items"`
	// Continue, when set, is passed as ?continue= for the next page.
	Continue string `json:"continue,omitempty"`
}

// ViolationDetail is the answer of GET /api/v1/violations/{key}.
type ViolationDetail struct {
	Violation store.Violation `json:"violation"`
	Timeline  []store.Event   `json:"timeline"`
}

// RunList is the answer of GET /api/v1/runs.
type RunList struct {
	Items []store.Run `json:"items"`
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

// MaxSearch bounds the text of a search (?search=), in bytes.
const MaxSearch = 256

// Options configure the API.
type Options struct {
	Store store.Store
	// Ready reports what still keeps the consumer from being ready ("" when
	// ready), beyond the store answering.
	Ready    func() string
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// Handler returns the API's routes.
func Handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &api{opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/violations", a.violations)
	mux.HandleFunc("GET /api/v1/violations/{key}", a.violation)
	mux.HandleFunc("GET /api/v1/runs", a.runs)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", a.ready)
	if opts.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{ErrorLog: slogAdapter{opts.Logger}}))
	}
	return mux
}

type api struct{ opts Options }

type slogAdapter struct{ l *slog.Logger }

func (s slogAdapter) Println(v ...any) { s.l.Error(fmt.Sprint(v...)) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, Error{Error: fmt.Sprintf(format, args...)})
}

func (a *api) internal(w http.ResponseWriter, err error) {
	a.opts.Logger.Error("api", "error", err)
	writeJSON(w, http.StatusInternalServerError, Error{Error: "the store did not answer; see the consumer's log"})
}

// checkParams refuses parameters the endpoint does not take and repeated
// ones.
func checkParams(q url.Values, allowed ...string) error {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for k, vs := range q {
		if !ok[k] {
			return fmt.Errorf("unknown query parameter %q (this endpoint takes %v)", k, allowed)
		}
		if len(vs) > 1 {
			return fmt.Errorf("query parameter %q given %d times", k, len(vs))
		}
	}
	return nil
}

func limitParam(q url.Values, def int) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, fmt.Errorf("query parameter \"limit\" is %q, want a number from 1 to 1000", s)
	}
	return n, nil
}

func (a *api) violations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "state", "cluster", "namespace", "constraintKind", "constraintName", "resourceKind", "enforcementAction", "search", "limit", "continue"); err != nil {
		badRequest(w, "%v", err)
		return
	}
	f := store.Filter{
		Cluster: q.Get("cluster"), Namespace: q.Get("namespace"), ConstraintKind: q.Get("constraintKind"),
		ConstraintName: q.Get("constraintName"), ResourceKind: q.Get("resourceKind"), EnforcementAction: q.Get("enforcementAction"),
		Search: q.Get("search"),
	}
	if len(f.Search) > MaxSearch {
		badRequest(w, "query parameter \"search\" is %d bytes, want at most %d", len(f.Search), MaxSearch)
		return
	}
	switch st := q.Get("state"); st {
	case "", "all":
	case store.StateOpen, store.StateResolved:
		f.State = st
	default:
		badRequest(w, "query parameter \"state\" is %q, want open, resolved or all", st)
		return
	}
	var err error
	if f.Limit, err = limitParam(q, 500); err != nil {
		badRequest(w, "%v", err)
		return
	}
	if c := q.Get("continue"); c != "" {
		if f.After, err = strconv.ParseInt(c, 10, 64); err != nil || f.After < 0 {
			badRequest(w, "query parameter \"continue\" is %q: pass the continue value of the previous page", c)
			return
		}
	}
	items, err := a.opts.Store.Violations(r.Context(), f)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := ViolationList{Items: items}
	if len(items) == f.Limit {
		out.Continue = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) violation(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		badRequest(w, "%v", err)
		return
	}
	key := r.PathValue("key")
	if !store.ValidKey(key) {
		badRequest(w, "violation key %q: want the 32 hexadecimal characters `violations list` shows", key)
		return
	}
	v, events, err := a.opts.Store.Violation(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, Error{Error: fmt.Sprintf("no violation %s", key)})
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ViolationDetail{Violation: v, Timeline: events})
}

func (a *api) runs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "cluster", "limit"); err != nil {
		badRequest(w, "%v", err)
		return
	}
	limit, err := limitParam(q, 50)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	runs, err := a.opts.Store.Runs(r.Context(), q.Get("cluster"), limit)
	if err != nil {
		a.internal(w, err)
		return
	}
	if runs == nil {
		runs = []store.Run{}
	}
	writeJSON(w, http.StatusOK, RunList{Items: runs})
}

func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := a.opts.Store.Ping(ctx); err != nil {
		a.opts.Logger.Warn("not ready: store", "error", err)
		http.Error(w, "store not reachable", http.StatusServiceUnavailable)
		return
	}
	if a.opts.Ready != nil {
		if why := a.opts.Ready(); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}
