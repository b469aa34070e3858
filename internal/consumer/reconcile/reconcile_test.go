package reconcile_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reconcile"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// statuses is a list of constraint statuses as the API server would give
// them: the input the reconciler judges, set by each case.
type statuses []reconcile.ConstraintStatus

func (s *statuses) Constraints(context.Context) ([]reconcile.ConstraintStatus, error) {
	return *s, nil
}

var (
	t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	k  = store.Constraint{Group: "constraints.gatekeeper.sh", Kind: "K8sRequiredLabels", Name: "owner"}
)

func msg(run time.Time, resource string) store.Message {
	return store.Message{Kind: store.KindViolation, Run: run, Violation: violation.Violation{
		ID: run.Format(time.RFC3339), EventType: violation.EventType, Group: k.Group, Kind: k.Kind, Name: k.Name,
		Message: "no owner", ResourceKind: "ConfigMap", ResourceNamespace: "ns", ResourceName: resource,
	}}
}

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestCompleteness(t *testing.T) {
	completed := func(run time.Time) store.Message { return store.Message{Kind: store.KindCompleted, Run: run} }
	started := func(run time.Time) store.Message { return store.Message{Kind: store.KindStarted, Run: run} }
	for _, tc := range []struct {
		name     string
		msgs     []store.Message
		status   *statuses // nil: no API server
		at       time.Duration
		complete bool
	}{
		{"markers, grace passed, no API server", []store.Message{started(t0), msg(t0, "a"), completed(t0)}, nil, time.Minute, true},
		{"markers, within the grace", []store.Message{started(t0), msg(t0, "a"), completed(t0)}, nil, 5 * time.Second, false},
		{"an end but no start (its first messages trimmed from the stream)", []store.Message{msg(t0, "a"), completed(t0)}, nil, time.Hour, false},
		{"started but no end (a crashed or running audit)", []store.Message{started(t0), msg(t0, "a")}, nil, time.Hour, false},
		{"no markers and no API server (v3.17)", []store.Message{msg(t0, "a")}, nil, time.Hour, false},
		{"no markers, status agrees (v3.17)", []store.Message{msg(t0, "a")},
			&statuses{{Constraint: k, AuditTimestamp: t0, TotalViolations: 1}}, time.Minute, true},
		{"status counts more than arrived", []store.Message{msg(t0, "a")},
			&statuses{{Constraint: k, AuditTimestamp: t0, TotalViolations: 2}}, time.Hour, false},
		{"status is of an older run (audit failed, status not written)", []store.Message{started(t0), msg(t0, "a"), completed(t0)},
			&statuses{{Constraint: k, AuditTimestamp: t0.Add(-time.Minute), TotalViolations: 1}}, time.Hour, false},
		{"markers and status agree", []store.Message{started(t0), msg(t0, "a"), completed(t0)},
			&statuses{{Constraint: k, AuditTimestamp: t0, TotalViolations: 1}}, time.Minute, true},
		{"a constraint not audited in the run", []store.Message{started(t0), msg(t0, "a"), completed(t0)},
			&statuses{{Constraint: k, AuditTimestamp: t0, TotalViolations: 1}, {Constraint: store.Constraint{Group: k.Group, Kind: "Other", Name: "x"}}}, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			if _, err := st.Record(context.Background(), "c", tc.msgs); err != nil {
				t.Fatal(err)
			}
			opts := reconcile.Options{Cluster: "c", Store: st, Grace: 30 * time.Second, ResolveAfter: 1, MaxResolveShare: 1}
			if tc.status != nil {
				opts.Status = tc.status
			}
			// The completed marker's time is when it was recorded (now):
			// judge at now+at, and once before so the status's agreement
			// starts then.
			start := time.Now()
			clock := start
			opts.Now = func() time.Time { return clock }
			r, err := reconcile.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Once(context.Background()); err != nil {
				t.Fatal(err)
			}
			clock = start.Add(tc.at)
			judged, err := r.Once(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(judged) == 1 && judged[0].State == store.RunFinalized; got != tc.complete {
				t.Fatalf("complete %v (%+v), want %v", got, judged, tc.complete)
			}
		})
	}
}

// TestV317RunWithoutViolations: a v3.17 audit that finds nothing publishes
// nothing; the status alone makes the run, which resolves what was open.
func TestV317RunWithoutViolations(t *testing.T) {
	st := open(t)
	if _, err := st.Record(context.Background(), "c", []store.Message{msg(t0, "a")}); err != nil {
		t.Fatal(err)
	}
	s := &statuses{{Constraint: k, AuditTimestamp: t0, TotalViolations: 1}}
	clock := time.Now()
	r, err := reconcile.New(reconcile.Options{Cluster: "c", Store: st, Status: s, ResolveAfter: 1, MaxResolveShare: 1, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	if j, err := r.Once(context.Background()); err != nil || len(j) != 1 {
		t.Fatalf("run 0: %v %v", j, err)
	}
	*s = statuses{{Constraint: k, AuditTimestamp: t0.Add(time.Minute), TotalViolations: 0}}
	j, err := r.Once(context.Background())
	if err != nil || len(j) != 1 || j[0].Resolved != 1 {
		t.Fatalf("run 1 (no messages): %+v %v, want one run resolving a", j, err)
	}
	// The constraint is deleted: nothing open is left to resolve, and a
	// violation of it reopened later would be resolved as deleted.
	if _, err := st.Record(context.Background(), "c", []store.Message{msg(t0.Add(2*time.Minute), "b")}); err != nil {
		t.Fatal(err)
	}
	*s = statuses{}
	if _, err := r.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	vs, _ := st.Violations(context.Background(), store.Filter{Cluster: "c", State: store.StateResolved})
	reasons := map[string]string{}
	for _, v := range vs {
		reasons[v.Resource.Name] = v.Reason
	}
	if reasons["a"] != store.ReasonAbsent || reasons["b"] != store.ReasonConstraintDeleted {
		t.Fatalf("resolved %v, want a absent and b constraint-deleted", reasons)
	}
}

func TestOptionsRefused(t *testing.T) {
	st := open(t)
	for _, o := range []reconcile.Options{
		{Store: st, ResolveAfter: 0, MaxResolveShare: 0.5},
		{Store: st, ResolveAfter: 1, MaxResolveShare: 0},
		{Store: st, ResolveAfter: 1, MaxResolveShare: 1.5},
		{ResolveAfter: 1, MaxResolveShare: 0.5},
	} {
		if _, err := reconcile.New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
