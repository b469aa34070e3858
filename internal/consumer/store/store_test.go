package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// backends opens a fresh store of each kind: SQLite in a temporary file and
// a database on a real PostgreSQL server started for the test.
func backends(t *testing.T) map[string]func(t *testing.T) store.Store {
	t.Helper()
	pg := procstest.StartPostgres(t, procs.PostgresOptions{})
	var (
		mu sync.Mutex
		n  int
	)
	return map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			s, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			mu.Lock()
			n++
			db := fmt.Sprintf("case%d", n)
			mu.Unlock()
			// One database per case keeps them apart.
			return openPG(t, pg, db)
		},
	}
}

func openPG(t *testing.T, pg *procs.Postgres, db string) store.Store {
	t.Helper()
	ctx := context.Background()
	if err := procs.CreateDatabase(ctx, pg, db); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, pg.URLFor(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func runAt(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

func viol(run time.Time, kind, name, resource, msg string) store.Message {
	return store.Message{Kind: store.KindViolation, Run: run, Violation: violation.Violation{
		ID: run.Format(time.RFC3339), EventType: violation.EventType,
		Group: "constraints.gatekeeper.sh", Version: "v1beta1", Kind: kind, Name: name,
		Message: msg, EnforcementAction: "deny",
		ResourceAPIVersion: "v1", ResourceKind: "ConfigMap", ResourceNamespace: "ns", ResourceName: resource,
	}}
}

// audit returns the messages of one run holding the given resources'
// violations (one constraint), markers around them.
func audit(run time.Time, resources ...string) []store.Message {
	msgs := []store.Message{{Kind: store.KindStarted, Run: run}}
	for _, r := range resources {
		msgs = append(msgs, viol(run, "K8sRequiredLabels", "must-have-owner", r, "missing owner on "+r))
	}
	return append(msgs, store.Message{Kind: store.KindCompleted, Run: run})
}

func states(t *testing.T, s store.Store, cluster string) map[string]string {
	t.Helper()
	vs, err := s.Violations(context.Background(), store.Filter{Cluster: cluster, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range vs {
		out[v.Resource.Name] = v.State
	}
	return out
}

func record(t *testing.T, s store.Store, cluster string, msgs []store.Message) store.RecordResult {
	t.Helper()
	res, err := s.Record(context.Background(), cluster, msgs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func finalize(t *testing.T, s store.Store, cluster string, run time.Time, after int, share float64) store.Run {
	t.Helper()
	r, err := s.Finalize(context.Background(), cluster, run, store.FinalizeOptions{ResolveAfter: after, MaxResolveShare: share, Now: run.Add(30 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStore(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			for _, tc := range storeCases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
			}
		})
	}
}

var storeCases = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"duplicates count once", func(t *testing.T, s store.Store) {
		msgs := audit(runAt(0), "a", "b")
		res := record(t, s, "c", append(msgs, msgs...))
		if res.Opened != 2 || res.Duplicates != 2 {
			t.Fatalf("opened %d duplicates %d, want 2 and 2", res.Opened, res.Duplicates)
		}
		res = record(t, s, "c", msgs) // a redelivery in another batch
		if res.Opened != 0 || res.Duplicates != 2 {
			t.Fatalf("redelivery: opened %d duplicates %d, want 0 and 2", res.Opened, res.Duplicates)
		}
		runs, err := s.PendingRuns(context.Background(), "c")
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Received != 2 || !runs[0].Started || runs[0].CompletedAt == nil {
			t.Fatalf("pending runs %+v, want one with 2 received and both markers", runs)
		}
		if len(runs[0].Constraints) != 1 || runs[0].Constraints[0].Received != 2 || runs[0].Constraints[0].Expected != -1 {
			t.Fatalf("constraints %+v, want K8sRequiredLabels with 2 received, expected unknown", runs[0].Constraints)
		}
	}},
	{"resolve after N complete runs, at the first", func(t *testing.T, s store.Store) {
		record(t, s, "c", audit(runAt(0), "a", "b", "c"))
		finalize(t, s, "c", runAt(0), 2, 1)
		record(t, s, "c", audit(runAt(1), "a", "b"))
		r1 := finalize(t, s, "c", runAt(1), 2, 1)
		if r1.Resolved != 0 || r1.StillOpen != 2 || r1.New != 0 {
			t.Fatalf("run 1: %+v, want 2 still open, none resolved", r1)
		}
		record(t, s, "c", audit(runAt(2), "a"))
		r2 := finalize(t, s, "c", runAt(2), 2, 1)
		if r2.Resolved != 1 {
			t.Fatalf("run 2 resolved %d, want 1 (c, absent from runs 1 and 2)", r2.Resolved)
		}
		got := states(t, s, "c")
		want := map[string]string{"a": "open", "b": "open", "c": "resolved"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("states %v, want %v", got, want)
		}
		vs, _ := s.Violations(context.Background(), store.Filter{Cluster: "c", State: store.StateResolved})
		if len(vs) != 1 || vs[0].ResolvedAt == nil || !vs[0].ResolvedAt.Equal(runAt(1)) || vs[0].Reason != store.ReasonAbsent {
			t.Fatalf("resolved %+v, want c resolved at run 1 (the first run without it), reason absent", vs)
		}
		_, events, err := s.Violation(context.Background(), vs[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[0].Kind != store.EventOpened || events[1].Kind != store.EventResolved {
			t.Fatalf("timeline %+v, want opened then resolved", events)
		}
	}},
	{"reopens in a newer run with history kept", func(t *testing.T, s store.Store) {
		record(t, s, "c", audit(runAt(0), "a"))
		finalize(t, s, "c", runAt(0), 1, 1)
		record(t, s, "c", audit(runAt(1)))
		finalize(t, s, "c", runAt(1), 1, 1)
		if got := states(t, s, "c")["a"]; got != store.StateResolved {
			t.Fatalf("a is %s after a run without it, want resolved", got)
		}
		res := record(t, s, "c", audit(runAt(2), "a"))
		if res.Reopened != 1 {
			t.Fatalf("reopened %d, want 1", res.Reopened)
		}
		vs, _ := s.Violations(context.Background(), store.Filter{Cluster: "c"})
		_, events, _ := s.Violation(context.Background(), vs[0].Key)
		kinds := []string{}
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		if fmt.Sprint(kinds) != "[opened resolved reopened]" {
			t.Fatalf("timeline %v, want [opened resolved reopened]", kinds)
		}
		if !vs[0].FirstSeen.Equal(runAt(0)) {
			t.Fatalf("first seen %v, want run 0 (kept across the reopening)", vs[0].FirstSeen)
		}
	}},
	{"an old run redelivered after a newer complete run changes nothing", func(t *testing.T, s store.Store) {
		record(t, s, "c", audit(runAt(0), "a"))
		finalize(t, s, "c", runAt(0), 1, 1)
		record(t, s, "c", audit(runAt(1)))
		finalize(t, s, "c", runAt(1), 1, 1)
		res := record(t, s, "c", audit(runAt(0), "a", "new-in-old-run"))
		if res.Ignored != 4 || res.Opened != 0 || res.Reopened != 0 {
			t.Fatalf("%+v, want all 4 messages ignored", res)
		}
		got := states(t, s, "c")
		if len(got) != 1 || got["a"] != store.StateResolved {
			t.Fatalf("states %v, want only a, resolved", got)
		}
		// A run older than every judged one, never seen, is ignored too.
		res = record(t, s, "c", audit(runAt(-5), "b"))
		if res.Ignored != 3 {
			t.Fatalf("%+v, want a run older than the judged ones ignored", res)
		}
	}},
	{"a run that would resolve too many is held until the next agrees", func(t *testing.T, s store.Store) {
		record(t, s, "c", audit(runAt(0), "a", "b", "c", "d"))
		finalize(t, s, "c", runAt(0), 1, 0.5)
		record(t, s, "c", audit(runAt(1), "a"))
		r1 := finalize(t, s, "c", runAt(1), 1, 0.5)
		if r1.State != store.RunHeld || r1.WouldResolve != 3 || r1.Resolved != 0 {
			t.Fatalf("run 1 %+v, want held, would resolve 3", r1)
		}
		if got := states(t, s, "c"); got["b"] != store.StateOpen {
			t.Fatalf("held run resolved b: %v", got)
		}
		// The next run sees c again: only b and d are resolved, at run 1.
		record(t, s, "c", audit(runAt(2), "a", "c"))
		r2 := finalize(t, s, "c", runAt(2), 1, 0.5)
		if r2.State != store.RunFinalized || r2.Resolved != 2 {
			t.Fatalf("run 2 %+v, want finalized, 2 resolved", r2)
		}
		got := states(t, s, "c")
		want := map[string]string{"a": "open", "b": "resolved", "c": "open", "d": "resolved"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("states %v, want %v", got, want)
		}
	}},
	{"older pending runs become incomplete", func(t *testing.T, s store.Store) {
		record(t, s, "c", []store.Message{{Kind: store.KindStarted, Run: runAt(0)}, viol(runAt(0), "K", "k", "a", "m")})
		record(t, s, "c", audit(runAt(1), "a"))
		finalize(t, s, "c", runAt(1), 1, 1)
		runs, err := s.Runs(context.Background(), "c", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[1].State != store.RunIncomplete || runs[1].Reason == "" {
			t.Fatalf("runs %+v, want run 0 incomplete with a reason", runs)
		}
		if _, err := s.Finalize(context.Background(), "c", runAt(7), store.FinalizeOptions{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("finalising an unknown run: %v, want ErrNotFound", err)
		}
	}},
	{"status of a run with no violations", func(t *testing.T, s store.Store) {
		record(t, s, "c", audit(runAt(0), "a"))
		finalize(t, s, "c", runAt(0), 1, 1)
		c := store.Constraint{Group: "constraints.gatekeeper.sh", Kind: "K8sRequiredLabels", Name: "must-have-owner"}
		if err := s.ObserveStatus(context.Background(), "c", store.StatusObservation{Run: runAt(1), Constraints: map[store.Constraint]int{c: 0}}, runAt(2)); err != nil {
			t.Fatal(err)
		}
		pending, _ := s.PendingRuns(context.Background(), "c")
		if len(pending) != 1 || pending[0].StatusAt == nil || len(pending[0].Constraints) != 1 || pending[0].Constraints[0].Expected != 0 {
			t.Fatalf("pending %+v, want run 1 with the constraint expecting 0", pending)
		}
		r := finalize(t, s, "c", runAt(1), 1, 1)
		if r.Resolved != 1 {
			t.Fatalf("resolved %d, want 1", r.Resolved)
		}
	}},
	{"a deleted constraint resolves its violations", func(t *testing.T, s store.Store) {
		record(t, s, "c", append(audit(runAt(0), "a"), viol(runAt(0), "K8sOther", "other", "x", "m")))
		c := store.Constraint{Group: "constraints.gatekeeper.sh", Kind: "K8sOther", Name: "other"}
		n, err := s.ResolveConstraint(context.Background(), "c", c, runAt(1))
		if err != nil || n != 1 {
			t.Fatalf("resolved %d (%v), want 1", n, err)
		}
		vs, _ := s.Violations(context.Background(), store.Filter{Cluster: "c", State: store.StateResolved})
		if len(vs) != 1 || vs[0].Reason != store.ReasonConstraintDeleted {
			t.Fatalf("%+v, want x resolved as constraint-deleted", vs)
		}
		open, _ := s.OpenConstraints(context.Background(), "c")
		if len(open) != 1 || open[0].Kind != "K8sRequiredLabels" {
			t.Fatalf("open constraints %v", open)
		}
	}},
	{"paging and filters", func(t *testing.T, s store.Store) {
		var names []string
		for i := range 25 {
			names = append(names, fmt.Sprintf("r%02d", i))
		}
		record(t, s, "c", audit(runAt(0), names...))
		record(t, s, "other", audit(runAt(0), "z"))
		var got []string
		f := store.Filter{Cluster: "c", Limit: 10}
		for range 10 {
			page, err := s.Violations(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page {
				got = append(got, v.Resource.Name)
				f.After = v.ID
			}
			if len(page) < f.Limit {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(names) {
			t.Fatalf("paged %v, want %v", got, names)
		}
		for _, tc := range []struct {
			f    store.Filter
			want int
		}{
			{store.Filter{ResourceKind: "ConfigMap"}, 26},
			{store.Filter{ConstraintKind: "K8sRequiredLabels", Cluster: "other"}, 1},
			{store.Filter{EnforcementAction: "warn"}, 0},
			{store.Filter{Namespace: "ns", State: store.StateOpen}, 26},
			{store.Filter{State: store.StateResolved}, 0},
		} {
			vs, err := s.Violations(context.Background(), tc.f)
			if err != nil || len(vs) != tc.want {
				t.Errorf("%+v: %d (%v), want %d", tc.f, len(vs), err, tc.want)
			}
		}
		counts, err := s.OpenCounts(context.Background())
		if err != nil || len(counts) != 2 {
			t.Fatalf("open counts %+v (%v), want two groups", counts, err)
		}
	}},
	{"search: case-insensitive substring, wildcards literal", func(t *testing.T, s store.Store) {
		db := viol(runAt(0), "K8sRequiredProbes", "probes", "db", "no readiness probe!")
		db.Violation.ResourceNamespace = "Payments"
		record(t, s, "c", []store.Message{
			viol(runAt(0), "K8sRequiredLabels", "must-have-owner", "web-1", "Missing OWNER label"),
			viol(runAt(0), "K8sContainerLimits", "cpu-limits", "batch_job", "uses 100% of the CPU"),
			viol(runAt(0), "K8sContainerLimits", "cpu-limits", "batchXjob", "uses 1000 millicores"),
			viol(runAt(0), "K8sNames", "names", "cafe", "Émile's café"),
			db,
		})
		for _, tc := range []struct {
			f    store.Filter
			want string
		}{
			{store.Filter{Search: "owner"}, "[web-1]"},                    // message and constraint name, once
			{store.Filter{Search: "OWNER label"}, "[web-1]"},              // case
			{store.Filter{Search: "100%"}, "[batch_job]"},                 // % is literal ("1000" does not match)
			{store.Filter{Search: "%"}, "[batch_job]"},                    // not everything
			{store.Filter{Search: "_"}, "[batch_job]"},                    // _ is literal (batchXjob does not match)
			{store.Filter{Search: "!"}, "[db]"},                           // the escape character itself
			{store.Filter{Search: "payments"}, "[db]"},                    // resource namespace, case
			{store.Filter{Search: "cpu-LIMITS"}, "[batch_job batchXjob]"}, // constraint name
			{store.Filter{Search: "web-1"}, "[web-1]"},                    // resource name
			{store.Filter{Search: "o'brien"}, "[]"},                       // a quote is data
			{store.Filter{Search: "Émile's CAFé"}, "[cafe]"},              // non-ASCII as written (SQLite folds ASCII only)
			{store.Filter{Search: "uses", Namespace: "ns"}, "[batch_job batchXjob]"},
			{store.Filter{Search: "uses", Namespace: "Payments"}, "[]"},
			{store.Filter{Search: "job", Limit: 1}, "[batch_job]"},
		} {
			vs, err := s.Violations(context.Background(), tc.f)
			if err != nil {
				t.Fatalf("%+v: %v", tc.f, err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.Resource.Name)
			}
			if g := fmt.Sprint(got); g != tc.want {
				t.Errorf("search %+v: %s, want %s", tc.f, g, tc.want)
			}
		}
	}},
	{"prune drops old resolved history", func(t *testing.T, s store.Store) {
		record(t, s, "c", audit(runAt(0), "a", "b"))
		finalize(t, s, "c", runAt(0), 1, 1)
		record(t, s, "c", audit(runAt(1), "a"))
		finalize(t, s, "c", runAt(1), 1, 1)
		n, err := s.Prune(context.Background(), runAt(5))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want 1", n, err)
		}
		if got := states(t, s, "c"); len(got) != 1 || got["a"] != store.StateOpen {
			t.Fatalf("after prune %v", got)
		}
		last, err := s.LastComplete(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := last["c"]; ok {
			t.Fatalf("runs before the cut kept: %v", last)
		}
	}},
}

// TestConcurrentFinalize: two stores on one PostgreSQL database (two
// replicas) finalise the same run at once; it is applied once.
func TestConcurrentFinalize(t *testing.T) {
	pg := procstest.StartPostgres(t, procs.PostgresOptions{})
	a := openPG(t, pg, "replicas")
	b, err := store.Open(context.Background(), pg.URLFor("replicas"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	record(t, a, "c", audit(runAt(0), "a", "b"))
	finalize(t, a, "c", runAt(0), 1, 1)
	record(t, b, "c", audit(runAt(1), "a"))
	var wg sync.WaitGroup
	results := make([]store.Run, 2)
	for i, s := range []store.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Finalize(context.Background(), "c", runAt(1), store.FinalizeOptions{ResolveAfter: 1, MaxResolveShare: 1})
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	vs, _ := a.Violations(context.Background(), store.Filter{State: store.StateResolved})
	if len(vs) != 1 {
		t.Fatalf("%d resolved, want 1", len(vs))
	}
	_, events, _ := a.Violation(context.Background(), vs[0].Key)
	if len(events) != 2 {
		t.Fatalf("timeline %+v: want one opened and one resolved event (finalised once)", events)
	}
	if results[0].Resolved+results[1].Resolved != 1 && results[0].Resolved != 1 {
		t.Fatalf("results %+v", results)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"mysql://x", `scheme "mysql" is not sqlite or postgres`},
		{"/var/lib/x.db", "want sqlite:///path/file.db"},
		{"sqlite://", "no file path"},
		{"postgres://user:secret@127.0.0.1:1/db?connect_timeout=1", "user:xxxxx@"},
	} {
		_, err := store.Open(context.Background(), tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error with %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error shows the password: %v", tc.url, err)
		}
	}
}

// TestSideBySide: batches of one run recorded at once, each with its own
// violations of the same two constraints (as replicas on one PostgreSQL
// database do), all count, none deadlocks, and the run's count is their
// sum; a new run's first batches race to create it.
func TestSideBySide(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			const runs, parts, each = 5, 4, 30
			for r := range runs {
				run := runAt(r)
				var wg sync.WaitGroup
				for p := range parts {
					var batch []store.Message
					for i := range each {
						kind := []string{"K8sRequiredLabels", "K8sAllowedRepos"}[i%2]
						batch = append(batch, viol(run, kind, "c-"+kind, fmt.Sprintf("p%d-r%02d", p, i), "bad"))
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := s.Record(context.Background(), "c", batch); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				record(t, s, "c", []store.Message{{Kind: store.KindStarted, Run: run}, {Kind: store.KindCompleted, Run: run}})
				got := finalize(t, s, "c", run, 1, 0.5)
				if got.Received != parts*each || got.StillOpen != parts*each || got.New != map[bool]int{true: parts * each}[r == 0] {
					t.Fatalf("run %d: %+v, want %d received and still open", r, got, parts*each)
				}
			}
			counts, err := s.Runs(context.Background(), "c", 10)
			if err != nil || len(counts) != runs {
				t.Fatalf("%d runs (%v), want %d", len(counts), err, runs)
			}
			for _, r := range counts {
				if r.Received != parts*each {
					t.Errorf("run %s lists %d received, want %d", r.ID, r.Received, parts*each)
				}
			}
		})
	}
}
