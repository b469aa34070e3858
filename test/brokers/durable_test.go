package brokers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
)

// TestJetStreamWithoutDurableReplays shows why the JetStream Component sets
// durableName: without it, pubsub.jetstream (v1.14) subscribes with an
// ephemeral consumer and deliverPolicy all, so each restart of the
// subscriber's daprd delivers the whole stream again. TestBrokers restarts
// the same daprd with durableName set and nothing comes back.
func TestJetStreamWithoutDurableReplays(t *testing.T) {
	t.Parallel()
	bin, err := procs.DaprdJetStreamPath()
	if err != nil {
		t.Fatal(err)
	}
	n := procstest.StartNATS(t, procs.NATSOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.CreateStream(ctx, stream, topic); err != nil {
		t.Fatal(err)
	}
	// The same Component without durableName.
	comp := n.Component(component, stream, "")
	if strings.Contains(comp, "durableName") {
		t.Fatalf("durableName still in the Component:\n%s", comp)
	}
	e := newEnv(t, comp, bin, "2s")
	sub := e.consumer.Daprd
	e.cleanRun(runID(1))

	before := e.metric(`violations_messages_total{outcome="acked"}`)
	sub.Shutdown()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer scancel()
	if err := sub.Start(sctx); err != nil {
		t.Fatal(err)
	}
	// The whole stream (run 1's clean+2 messages) comes again.
	e.eventually("the stream replayed after the restart", 2*time.Minute, func() error {
		if got := e.metric(`violations_messages_total{outcome="acked"}`) - before; got < clean+2 {
			return fmt.Errorf("%.0f messages delivered again so far", got)
		}
		return nil
	})
	t.Logf("without durableName, a restart of the subscriber's daprd delivered the stream's %d messages again", clean+2)
}
