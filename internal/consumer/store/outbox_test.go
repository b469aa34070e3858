package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// changes lists a run's changes as "kind resource" lines, sorted.
func changes(t *testing.T, s store.Store, ar store.AlertRun) []string {
	t.Helper()
	var out []string
	if err := s.ForEachChange(context.Background(), ar, func(c store.Change) error {
		out = append(out, c.Kind+" "+c.Resource.Name+" "+c.Reason)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func nextRun(t *testing.T, s store.Store, cluster string) (store.AlertRun, bool) {
	t.Helper()
	ar, ok, err := s.NextAlertRun(context.Background(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	return ar, ok
}

// enqueue moves the cursor past ar with one alert for route "r".
func enqueue(t *testing.T, s store.Store, ar store.AlertRun) {
	t.Helper()
	key := fmt.Sprintf("%s/%d", ar.Cluster, ar.Run.Unix())
	if err := s.EnqueueAlerts(context.Background(), ar, []store.OutboxAlert{{Route: "r", Key: key, Body: []byte(`{"run":"` + ar.Run.Format(time.RFC3339) + `"}`)}}); err != nil {
		t.Fatal(err)
	}
}

func TestAlertOutbox(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			const c = "prod"
			if _, ok := nextRun(t, s, c); ok {
				t.Fatal("a run is due before any run")
			}
			steps := []struct {
				name string
				do   func(run time.Time)
				want []string // the changes of the run due, nil: none due
			}{
				{"first run opens a and b", func(r time.Time) { record(t, s, c, audit(r, "a", "b")); finalize(t, s, c, r, 1, 1) },
					[]string{"opened a ", "opened b "}},
				{"second run opens c, resolves a", func(r time.Time) { record(t, s, c, audit(r, "b", "c")); finalize(t, s, c, r, 1, 1) },
					[]string{"opened c ", "resolved a absent"}},
				{"an incomplete run is not due", func(r time.Time) { record(t, s, c, audit(r, "b", "c", "d")[:4]) }, nil},
				{"the next complete run tells what the incomplete one opened", func(r time.Time) { record(t, s, c, audit(r, "b", "c", "d")); finalize(t, s, c, r, 1, 1) },
					[]string{"opened d "}},
				{"nothing changed", func(r time.Time) { record(t, s, c, audit(r, "b", "c", "d")); finalize(t, s, c, r, 1, 1) }, []string{}},
				{"a deleted constraint's resolutions come with the next complete run", func(r time.Time) {
					if _, err := s.ResolveConstraint(ctx, c, store.Constraint{Group: "constraints.gatekeeper.sh", Kind: "K8sRequiredLabels", Name: "must-have-owner"}, r.Add(-20*time.Second)); err != nil {
						t.Fatal(err)
					}
					record(t, s, c, audit(r, "e"))
					finalize(t, s, c, r, 1, 1)
				}, []string{"opened e ", "resolved b constraint-deleted", "resolved c constraint-deleted", "resolved d constraint-deleted"}},
			}
			for i, st := range steps {
				run := runAt(i + 1)
				st.do(run)
				ar, ok := nextRun(t, s, c)
				if st.want == nil {
					if ok && ar.Run.After(runAt(i)) {
						t.Fatalf("%s: run %s is due", st.name, ar.Run)
					}
					continue
				}
				if !ok || !ar.Run.Equal(run) {
					t.Fatalf("%s: due %v %v, want run %s", st.name, ok, ar.Run, run)
				}
				if got := changes(t, s, ar); strings.Join(got, ",") != strings.Join(st.want, ",") {
					t.Errorf("%s: changes %q, want %q", st.name, got, st.want)
				}
				enqueue(t, s, ar)
				enqueue(t, s, ar) // a second replica with the same cursor adds nothing
			}
			if _, ok := nextRun(t, s, c); ok {
				t.Fatal("a run is due after all were enqueued")
			}
			if n, err := s.PendingAlerts(ctx); err != nil || n["r"] != 5 {
				t.Fatalf("pending %v %v, want 5 for route r", n, err)
			}

			// The route's alerts leave in order, one holder at a time, and
			// a failed one waits for its time.
			now := runAt(100)
			a, ok, err := s.ClaimAlert(ctx, "r", now, time.Minute)
			if err != nil || !ok || a.Attempts != 1 || !a.Run.Equal(runAt(1)) {
				t.Fatalf("claim: %+v %v %v, want run 1 at attempt 1", a, ok, err)
			}
			if _, ok, _ := s.ClaimAlert(ctx, "r", now, time.Minute); ok {
				t.Fatal("claimed twice while held")
			}
			if err := s.AlertFailed(ctx, a.ID, now.Add(10*time.Second), "500 Internal Server Error"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.ClaimAlert(ctx, "r", now.Add(5*time.Second), time.Minute); ok {
				t.Fatal("claimed before its retry time (or a later alert overtook it)")
			}
			b, ok, err := s.ClaimAlert(ctx, "r", now.Add(10*time.Second), time.Minute)
			if err != nil || !ok || b.ID != a.ID || b.Attempts != 2 || b.Key != a.Key || string(b.Body) != string(a.Body) {
				t.Fatalf("retry claim: %+v %v %v, want alert %d at attempt 2 with the same key", b, ok, err, a.ID)
			}
			if err := s.AlertSent(ctx, b.ID, now.Add(11*time.Second)); err != nil {
				t.Fatal(err)
			}
			// A holder that died: its lease runs out and another takes it.
			c2, ok, _ := s.ClaimAlert(ctx, "r", now.Add(12*time.Second), time.Second)
			if !ok || !c2.Run.Equal(runAt(2)) {
				t.Fatalf("next claim: %+v %v, want run 2", c2, ok)
			}
			c3, ok, _ := s.ClaimAlert(ctx, "r", now.Add(14*time.Second), time.Second)
			if !ok || c3.ID != c2.ID {
				t.Fatalf("claim after the lease: %+v %v, want alert %d again", c3, ok, c2.ID)
			}
			if _, ok, _ := s.ClaimAlert(ctx, "other", now, time.Minute); ok {
				t.Fatal("claimed an alert of another route")
			}
			if n, _ := s.PendingAlerts(ctx); n["r"] != 4 {
				t.Fatalf("pending %v, want 4", n)
			}
			// Sent alerts are pruned with the history; pending ones stay.
			if _, err := s.Prune(ctx, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.PendingAlerts(ctx); n["r"] != 4 {
				t.Fatalf("pending after prune %v, want 4", n)
			}

			// Alerts enabled on a store with history start from now.
			record(t, s, "staging", audit(runAt(1), "x"))
			finalize(t, s, "staging", runAt(1), 1, 1)
			if ar, ok := nextRun(t, s, "staging"); ok {
				t.Fatalf("history is due: %+v", ar)
			}
			record(t, s, "staging", audit(runAt(2), "x", "y"))
			finalize(t, s, "staging", runAt(2), 1, 1)
			ar, ok := nextRun(t, s, "staging")
			if !ok || strings.Join(changes(t, s, ar), ",") != "opened y " {
				t.Fatalf("after history: %v %q, want y opened", ok, changes(t, s, ar))
			}
		})
	}
}
