package consumer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

func (e *env) run(run time.Time) store.Run {
	e.t.Helper()
	var l api.RunList
	if err := e.get("/api/v1/runs", &l); err != nil {
		e.t.Fatal(err)
	}
	for _, r := range l.Items {
		if r.ID.Equal(run) {
			return r
		}
	}
	e.t.Fatalf("run %s not listed", run)
	return store.Run{}
}

// TestFaultPostgresDown stops PostgreSQL for 10 s in the middle of a run:
// the deliveries answered RETRY are retried by daprd, the consumer is not
// ready meanwhile, and once the database is back the run completes with
// nothing lost and nothing counted twice.
func TestFaultPostgresDown(t *testing.T) {
	pg := procstest.StartPostgres(t, procs.PostgresOptions{})
	e := newEnv(t, pg.URL())
	e.eventually("ready", 30*time.Second, func() error { return e.get("/readyz", nil) })
	e.auditRun(runID(1), true, "a", "b", "c")
	e.waitRun(runID(1), store.RunFinalized)

	e.publish(marker(runID(2), violation.AuditStarted))
	e.publish(viol(runID(2), "a"))
	e.eventually("run 2 seen", 30*time.Second, func() error {
		if s := e.runState(runID(2)); s != store.RunPending {
			return fmt.Errorf("run 2 is %s", s)
		}
		return nil
	})
	pg.Pause()
	e.publish(viol(runID(2), "b"))
	e.publish(viol(runID(2), "b"))
	e.publish(marker(runID(2), violation.AuditCompleted))
	e.eventually("not ready while the store is down", 15*time.Second, func() error {
		if err := e.get("/readyz", nil); err == nil {
			return fmt.Errorf("ready")
		}
		return nil
	})
	time.Sleep(10 * time.Second)
	if err := pg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitRun(runID(2), store.RunFinalized)
	if r := e.run(runID(2)); r.Received != 2 || r.StillOpen != 2 || r.Resolved != 1 {
		t.Fatalf("run 2: %+v, want a and b received once each, c resolved", r)
	}
	if got := fmt.Sprint(e.states()); got != "map[a:open b:open c:resolved]" {
		t.Fatalf("after the outage: %s", got)
	}
}

// TestFaultReplicaKilled runs two replicas on one PostgreSQL database (one
// consumer group: daprd's consumer ID is the app-id) and kills one, with
// its sidecar, in the middle of a run, as a deleted pod: the messages it
// had taken and not acked are redelivered to the other, and the run is
// finalised once, with each violation counted once.
func TestFaultReplicaKilled(t *testing.T) {
	pg := procstest.StartPostgres(t, procs.PostgresOptions{})
	// The grace exceeds the Component's redelivery time (processingTimeout
	// 3s + redeliverInterval 1s): with 2 s, the run was finalised before
	// the killed replica's taken message came back, and it was resolved.
	e := newEnv(t, pg.URL(), "--run-grace", "8s")
	other := newReplica(t, e.comp, pg.URL(), "--run-grace", "8s")
	for _, r := range []*env{e, other} {
		r.eventually("ready", 30*time.Second, func() error { return r.get("/readyz", nil) })
	}
	var first []string
	for i := range 30 {
		first = append(first, fmt.Sprintf("r%02d", i))
	}
	e.auditRun(runID(1), true, first...)
	e.waitRun(runID(1), store.RunFinalized)

	e.publish(marker(runID(2), violation.AuditStarted))
	for _, r := range first[:15] {
		e.publish(viol(runID(2), r))
	}
	other.consumer.App.Kill()
	other.consumer.Daprd.Kill()
	for _, r := range first[15:25] {
		e.publish(viol(runID(2), r))
	}
	e.publish(marker(runID(2), violation.AuditCompleted))
	e.waitRun(runID(2), store.RunFinalized)
	r := e.run(runID(2))
	if r.Received != 25 || r.StillOpen != 25 || r.Resolved != 5 {
		t.Fatalf("run 2: %+v, want 25 received (each once), 25 still open, 5 resolved", r)
	}
	vs, err := storeViolations(e)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, v := range vs {
		if v.State == store.StateOpen {
			open++
		}
	}
	if open != 25 || len(vs) != 30 {
		t.Fatalf("%d open of %d, want 25 of 30", open, len(vs))
	}
}

func storeViolations(e *env) ([]store.Violation, error) {
	var l api.ViolationList
	err := e.get("/api/v1/violations?limit=1000", &l)
	return l.Items, err
}
