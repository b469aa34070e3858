package brokers_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
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
	comp := n.Component(component, stream, "violations")
	comp = strings.Replace(comp, "    - name: durableName\n      value: violations\n", "", 1)
	if strings.Contains(comp, "durableName") {
		t.Fatalf("durableName still in the Component:\n%s", comp)
	}
	e := &env{t: t}
	appPort, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if e.apiPort, err = procs.FreePort(); err != nil {
		t.Fatal(err)
	}
	consumer, err := procs.StartAppWith(procs.AppOptions{Name: "violations", Path: violationsBin, Args: []string{"serve",
		"--app-listen", fmt.Sprintf("127.0.0.1:%d", appPort), "--listen", fmt.Sprintf("127.0.0.1:%d", e.apiPort),
		"--store", "sqlite://" + filepath.Join(t.TempDir(), "violations.db"), "--no-status",
		"--run-grace", "2s", "--reconcile-interval", "200ms", "--pubsub", component, "--topic", topic}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("violations serve output:\n%s", consumer.Logs())
		}
		consumer.Stop()
	})
	e.eventually("the consumer's API answers", 60*time.Second, func() error { return e.get("/healthz", nil) })
	sub := procstest.StartDaprd(t, procs.DaprdOptions{AppID: "subscriber", AppPort: appPort, Bin: bin,
		Resources: map[string]string{"pubsub.yaml": comp, "resiliency.yaml": resiliency}})
	audit := procstest.StartDaprd(t, procs.DaprdOptions{AppID: "audit", Bin: bin, Resources: map[string]string{"pubsub.yaml": comp}})
	e.audit = audit
	if e.pub, err = newClient(audit.GRPCAddr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pub.Close)
	e.eventually("the consumer is ready", 60*time.Second, func() error { return e.get("/readyz", nil) })

	run1 := runID(1)
	e.publish(marker(run1, violation.AuditStarted))
	for i := range clean {
		e.publish(viol(run1, resource(i)))
	}
	e.publish(marker(run1, violation.AuditCompleted))
	e.waitRun(run1)
	e.checkStored(run1, clean)

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
