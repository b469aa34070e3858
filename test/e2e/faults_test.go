package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// Fault tests: real daprd and redis-server processes are killed, stopped
// and restarted while pkg/pubsub publishes. Each violation has a distinct
// resource name (Gatekeeper's id is the audit run's timestamp and is shared),
// so the subscriber's deliveries can be counted distinct and duplicate.

// fastRedelivery makes the subscriber's sidecar redeliver unacknowledged
// messages after seconds, not Dapr's default minute.
var fastRedelivery = map[string]string{"redeliverInterval": "2s", "processingTimeout": "5s"}

// publishPaced publishes vs at about perSecond, calling at(i) before the
// i-th; it returns the first error.
func publishPaced(ctx context.Context, sys *pubsub.System, vs []violation.Violation, perSecond int, at func(i int)) error {
	const step = 10 * time.Millisecond
	per := max(1, perSecond/100)
	for i, v := range vs {
		if at != nil {
			at(i)
		}
		if err := sys.Publish(ctx, quickstart.Connection, quickstart.Channel, v); err != nil {
			return fmt.Errorf("publishing violation %d: %w", i, err)
		}
		if i%per == per-1 {
			time.Sleep(step)
		}
	}
	return nil
}

// distinct counts deliveries per resource name and checks that every sent
// violation arrived, equal to what was sent, at least once; it returns the
// number of duplicate deliveries.
func distinct(t *testing.T, sent, got []violation.Violation) int {
	t.Helper()
	want := map[string]violation.Violation{}
	for _, v := range sent {
		want[v.ResourceName] = normalize(t, v)
	}
	seen := map[string]int{}
	dups := 0
	for _, g := range got {
		w, ok := want[g.ResourceName]
		if !ok {
			t.Errorf("received a violation that was not sent: %s", g.ResourceName)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("violation %s changed on the way", g.ResourceName)
		}
		seen[g.ResourceName]++
		if seen[g.ResourceName] > 1 {
			dups++
		}
	}
	missing := 0
	for name := range want {
		if seen[name] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d violations never arrived", missing, len(sent))
	}
	return dups
}

func statsOf(t *testing.T, sys *pubsub.System) queue.Stats {
	t.Helper()
	c, ok := sys.Connection(quickstart.Connection)
	if !ok {
		t.Fatal("connection gone")
	}
	return c.(*dapr.Connection).Stats()
}

// TestFaultDaprdKilledAndRestarted kills the audit's sidecar (SIGKILL) in
// the middle of a run and starts it again on the same ports. Bound: a
// message is sent twice only if daprd handed it to Redis but died before
// answering, so duplicates are at most the messages in flight at the kill:
// workers x batch size.
func TestFaultDaprdKilledAndRestarted(t *testing.T) {
	e := newEnvWith(t, envOptions{startAudit: true})
	opts := dapr.Options{Queue: queue.Options{Workers: 4, BatchSize: 100, MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}}
	sys := e.connectWith(t, opts)
	sent := violations(4000)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	killed := make(chan struct{})
	restarted := make(chan error, 1)
	err := publishPaced(ctx, sys, sent, 4000, func(i int) {
		if i == 1500 {
			e.audit.Kill()
			close(killed)
			// Down until the publisher has felt it (a send failed and is
			// retried), at least 500 ms: on a busy machine the sends after
			// the kill may otherwise only start once daprd is back.
			go func() {
				time.Sleep(500 * time.Millisecond)
				c, _ := sys.Connection(quickstart.Connection)
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if dc, ok := c.(*dapr.Connection); !ok || dc.Stats().Retried > 0 {
						break
					}
				}
				restarted <- e.audit.Start(ctx)
			}()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	<-killed
	if err := <-restarted; err != nil {
		t.Fatalf("restarting daprd: %v", err)
	}
	if err := sys.Flush(ctx, quickstart.Connection); err != nil {
		t.Fatal(err)
	}
	got := e.inbox.waitFor(t, len(sent), 90*time.Second)
	dups := distinct(t, sent, got)
	s := statsOf(t, sys)
	bound := opts.Queue.Workers * opts.Queue.BatchSize
	t.Logf("daprd killed after 1500 of %d: %d delivered, %d distinct, %d duplicates (bound %d); %s", len(sent), len(got), len(got)-dups, dups, bound, s)
	if dups > bound {
		t.Errorf("%d duplicates, more than the bound %d (workers x batch size)", dups, bound)
	}
	if s.Lost() != 0 || s.Published != int64(len(sent)) {
		t.Errorf("publisher counts %s, want all %d published and none lost", s, len(sent))
	}
	if s.Retried == 0 {
		t.Errorf("publisher counts %s: no send was retried, so the kill was not felt", s)
	}
}

// TestFaultRedisDown stops Redis for 10 seconds in the middle of a run and
// starts it again (with its append-only file, as a broker with persistence
// would). The publisher retries with exponential backoff and jitter and
// loses nothing; the queue is large enough to hold the outage's backlog.
func TestFaultRedisDown(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 second outage: skipped with -short only")
	}
	e := newEnvWith(t, envOptions{startAudit: true, appendOnly: true, metadata: fastRedelivery})
	reg := prometheus.NewRegistry()
	metrics := queue.NewMetrics(reg)
	sys := e.connectWith(t, dapr.Options{Queue: queue.Options{MaxBackoff: 2 * time.Second, Metrics: metrics}})
	sent := violations(3000)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	restarted := make(chan error, 1)
	err := publishPaced(ctx, sys, sent, 200, func(i int) {
		if i == 500 {
			e.redis.Pause()
			go func() {
				time.Sleep(10 * time.Second)
				restarted <- e.redis.Start(ctx)
			}()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("restarting redis: %v", err)
	}
	if err := sys.Flush(ctx, quickstart.Connection); err != nil {
		t.Fatal(err)
	}
	got := e.inbox.waitFor(t, len(sent), 90*time.Second)
	dups := distinct(t, sent, got)
	s := statsOf(t, sys)
	t.Logf("redis down 10s after 500 of %d: %d delivered, %d duplicates; %s", len(sent), len(got), dups, s)
	if s.Retried == 0 {
		t.Error("no retries counted during a 10 second broker outage")
	}
	if got := gathered(t, reg, "gatekeeper_pubsub_publisher_retried_total"); got != float64(s.Retried) {
		t.Errorf("retried_total metric %v, stats %d", got, s.Retried)
	}
	if s.Lost() != 0 || s.Published != int64(len(sent)) {
		t.Errorf("publisher counts %s, want all %d published and none lost", s, len(sent))
	}
}

// gathered reads a metric through the registry: the sum of the named
// family's counter or gauge series.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	found := false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		found = true
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if !found {
		t.Fatalf("metric %s not registered", name)
	}
	return sum
}

// TestFaultQueueFull fills a small queue while the sidecar is down: with
// policy drop, every message past the bound is dropped at once and counted
// with its reason; with policy block, Publish waits for the caller's
// deadline, then fails and counts. What was queued is delivered once the
// sidecar is up.
func TestFaultQueueFull(t *testing.T) {
	tests := []struct {
		name        string
		policy      queue.FullPolicy
		publish     int
		timeout     time.Duration
		wantQueued  int
		wantReason  string
		wantDropped int
	}{
		{"drop", queue.Drop, 1000, time.Second, 100, "queue_full", 900},
		{"block", queue.Block, 101, 300 * time.Millisecond, 100, "enqueue_timeout", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, envOptions{})
			reg := prometheus.NewRegistry()
			sys := e.connectWith(t, dapr.Options{Queue: queue.Options{MaxItems: 100, Policy: tt.policy, Metrics: queue.NewMetrics(reg)}})
			sent := violations(tt.publish)
			var queued []violation.Violation
			dropped := 0
			for _, v := range sent {
				ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
				start := time.Now()
				err := sys.Publish(ctx, quickstart.Connection, quickstart.Channel, v)
				cancel()
				switch {
				case err == nil:
					queued = append(queued, v)
				case errors.Is(err, queue.ErrFull):
					dropped++
					if tt.policy == queue.Block && time.Since(start) < tt.timeout {
						t.Errorf("block policy returned after %s, before the caller's deadline %s", time.Since(start), tt.timeout)
					}
					if !strings.Contains(err.Error(), "publish queue full") {
						t.Errorf("error %q does not say the queue is full", err)
					}
				default:
					t.Fatal(err)
				}
			}
			if len(queued) != tt.wantQueued || dropped != tt.wantDropped {
				t.Fatalf("queued %d dropped %d, want %d and %d", len(queued), dropped, tt.wantQueued, tt.wantDropped)
			}
			if got := gathered(t, reg, "gatekeeper_pubsub_publisher_dropped_total"); got != float64(tt.wantDropped) {
				t.Errorf("dropped_total = %v, want %d", got, tt.wantDropped)
			}
			if s := statsOf(t, sys); s.Dropped[tt.wantReason] != int64(tt.wantDropped) {
				t.Errorf("dropped[%s] = %d, want %d (%s)", tt.wantReason, s.Dropped[tt.wantReason], tt.wantDropped, s)
			}
			if got := gathered(t, reg, "gatekeeper_pubsub_publisher_queue_depth"); got != float64(tt.wantQueued) {
				t.Errorf("queue_depth = %v, want %d", got, tt.wantQueued)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if err := e.audit.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sys.Flush(ctx, quickstart.Connection); err != nil {
				t.Fatal(err)
			}
			assertExactly(t, queued, e.inbox.waitFor(t, len(queued), 60*time.Second))
		})
	}
}

// TestFaultPermanentRejection publishes one message larger than the
// sidecar accepts (daprd --max-body-size 4Ki) among small ones: it fails
// once with reason too_large and is not retried; the others, batched with
// it, are delivered.
func TestFaultPermanentRejection(t *testing.T) {
	e := newEnvWith(t, envOptions{startAudit: true, auditArgs: []string{"--max-body-size", "4Ki"}})
	sys := e.connectWith(t, dapr.Options{Queue: queue.Options{BatchSize: 4, Workers: 1}})
	small := violations(20)
	big := violation.Example(time.Now())
	big.ResourceName = "too-large"
	big.Details = map[string]any{"blob": strings.Repeat("x", 8<<10)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, v := range small {
		if i == 10 {
			if err := sys.Publish(ctx, quickstart.Connection, quickstart.Channel, big); err != nil {
				t.Fatal(err)
			}
		}
		if err := sys.Publish(ctx, quickstart.Connection, quickstart.Channel, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Flush(ctx, quickstart.Connection); err != nil {
		t.Fatal(err)
	}
	s := statsOf(t, sys)
	if s.Failed["too_large"] != 1 || s.Published != int64(len(small)) || s.Retried != 0 {
		t.Fatalf("stats %s, want failed[too_large]=1, published=%d, retried=0", s, len(small))
	}
	assertExactly(t, small, e.inbox.waitFor(t, len(small), 30*time.Second))
}

// TestAPIToken: a sidecar that requires DAPR_API_TOKEN accepts the
// publisher that sends it, and refuses one without it for good (counted
// unauthenticated, not retried).
func TestAPIToken(t *testing.T) {
	const token = "s3cr3t-token"
	e := newEnvWith(t, envOptions{startAudit: true, auditToken: token})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	without := e.connectWith(t, dapr.Options{APIToken: "wrong"})
	if err := without.Publish(ctx, quickstart.Connection, quickstart.Channel, violations(1)[0]); err != nil {
		t.Fatal(err)
	}
	if err := without.Flush(ctx, quickstart.Connection); err != nil {
		t.Fatal(err)
	}
	if s := statsOf(t, without); s.Failed["unauthenticated"] != 1 || s.Retried != 0 {
		t.Fatalf("wrong token: stats %s, want failed[unauthenticated]=1 and no retry", s)
	}

	t.Setenv(dapr.EnvAPIToken, token) // found as the Dapr SDK finds it
	with := e.connectWith(t, dapr.Options{})
	sent := violations(5)
	for _, v := range sent {
		if err := with.Publish(ctx, quickstart.Connection, quickstart.Channel, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := with.Flush(ctx, quickstart.Connection); err != nil {
		t.Fatal(err)
	}
	assertExactly(t, sent, e.inbox.waitFor(t, len(sent), 30*time.Second))
}
