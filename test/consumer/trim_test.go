package consumer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// TestTrimmedStream: a Redis stream bounded by maxLenApprox drops its
// oldest entries, read or not. A consumer that was down while a whole run
// and more went through loses that run's start and first violations; the
// run's end arrives. The consumer must not take that run as complete and
// resolve what it missed.
func TestTrimmedStream(t *testing.T) {
	ctx := context.Background()
	redis := procstest.StartRedis(t, procs.RedisOptions{Password: "trim-test"})
	// Trim in steps of 10 entries, not Redis' default 100-entry nodes, so
	// a small stream trims.
	if _, err := redis.Do(ctx, "CONFIG", "SET", "stream-node-max-entries", "10"); err != nil {
		t.Fatal(err)
	}
	const maxLen = 30
	comp := map[string]string{"pubsub.yaml": fmt.Sprintf(component, redis.Addr, redis.Password) +
		"    - name: maxLenApprox\n      value: \"" + strconv.Itoa(maxLen) + "\"\n"}
	e := newEnvOn(t, comp, "sqlite://"+filepath.Join(t.TempDir(), "violations.db"))
	e.eventually("ready", 30*time.Second, func() error { return e.get("/readyz", nil) })

	// Run 1, complete: a, b, c and 40 more, published slowly enough that
	// the consumer keeps up with the trimming.
	names := []string{"a", "b", "c"}
	for i := range 40 {
		names = append(names, fmt.Sprintf("f%02d", i))
	}
	e.publish(marker(runID(1), violation.AuditStarted))
	for i, n := range names {
		e.publish(viol(runID(1), n))
		if i%10 == 9 {
			e.eventually("run 1 delivered so far", 30*time.Second, func() error {
				if r, ok := e.runIfListed(runID(1)); !ok || r.Received < i+1 {
					return fmt.Errorf("%d of %d received", r.Received, i+1)
				}
				return nil
			})
		}
	}
	e.publish(marker(runID(1), violation.AuditCompleted))
	e.waitRun(runID(1), store.RunFinalized)

	// The consumer and its sidecar down; run 2 (the same violations) goes
	// through the stream and is trimmed to about maxLen entries: its start
	// and a, b, c are gone before anyone reads them.
	e.consumer.App.Stop()
	e.consumer.Daprd.Stop()
	e.publish(marker(runID(2), violation.AuditStarted))
	for _, n := range names {
		e.publish(viol(runID(2), n))
	}
	e.publish(marker(runID(2), violation.AuditCompleted))
	xlen, err := redis.Do(ctx, "XLEN", "audit-channel")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(xlen); n >= len(names)+2 || n < maxLen {
		t.Fatalf("XLEN %s after run 2: want the stream trimmed to about %d (%d published)", xlen, maxLen, len(names)+2)
	}

	e.consumer.Start()
	e.consumer.StartDaprd()
	e.eventually("run 2's end and surviving violations delivered", 60*time.Second, func() error {
		r, ok := e.runIfListed(runID(2))
		if !ok || r.CompletedAt == nil || r.Received == 0 {
			return fmt.Errorf("run 2: %+v", r)
		}
		return nil
	})
	// Judged (several reconcile intervals and the grace later) and not
	// complete: nothing resolved.
	time.Sleep(4 * time.Second)
	r := e.run(runID(2))
	if r.Received >= len(names) || r.State == store.RunFinalized || r.Started {
		t.Fatalf("run 2: %+v, want fewer than %d received, no start, not finalized", r, len(names))
	}
	states := e.states()
	for _, n := range names {
		if states[n] != store.StateOpen {
			t.Fatalf("%s is %s after a trimmed run, want open: %v (run 2: %+v)", n, states[n], states, r)
		}
	}
	t.Logf("run 2 after trimming: %d of %d violations arrived, state %s (%s)", r.Received, len(names), r.State, r.Reason)
}

// runIfListed is the run from the API, if it is listed.
func (e *env) runIfListed(run time.Time) (store.Run, bool) {
	var l api.RunList
	if err := e.get("/api/v1/runs", &l); err != nil {
		return store.Run{}, false
	}
	for _, r := range l.Items {
		if r.ID.Equal(run) {
			return r, true
		}
	}
	return store.Run{}, false
}
