// Package brokers_test carries Gatekeeper's audit stream through each real
// broker the project supports besides Redis (NATS JetStream, RabbitMQ,
// MQTT with Mosquitto), each through a publisher daprd (app-id audit) and a
// subscriber daprd in front of the real `violations` consumer, and then
// stops the broker for 10 s while publishing and counts what was lost and
// what was delivered twice.
//
// The brokers run side by side (parallel subtests); a missing broker fails
// its subtest naming the make target that installs it (make brokers
// installs them all).
package brokers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

var violationsBin string

func TestMain(m *testing.M) { os.Exit(procstest.MainWithBuild(m, "./cmd/violations", &violationsBin)) }

const (
	component = "pubsub"
	topic     = "audit-channel"
	// stream is the JetStream stream capturing the topic.
	stream = "GATEKEEPER"
	// clean is the number of violations of the first run (Gatekeeper's
	// way, no fault); faulty the number of the second, published while
	// the broker is stopped for outage.
	clean  = 20
	faulty = 400
	outage = 10 * time.Second
	// pace between violations of the faulty run, so that publishing spans
	// the outage: 400 * 50ms = 20 s.
	pace = 50 * time.Millisecond
)

// broker is one broker under test: start starts it and returns its
// Component; pause stops it keeping its data, resume starts it again on the
// same port and data directory.
type broker struct {
	name  string
	start func(t *testing.T) (comp string, pause func(), resume func(context.Context) error)
	// want states what the fault costs with this broker.
	want outcome
	// daprd is the daprd binary; empty: bin/daprd.
	daprd string
	// stored, if set, returns how many messages the broker holds on the
	// topic (JetStream keeps them by limits).
	stored func(context.Context) (uint64, error)
}

// outcome of the fault: lost is exact. How many violations are delivered
// twice depends on what was in flight when the broker stopped (publishes
// daprd reported failed though the broker took them, then retried;
// deliveries whose ack the stop lost), so it is measured and logged, and
// bounded only where dupsMax >= 0. The consumer must absorb every
// duplicate: each run holds each violation once (checkStored).
type outcome struct {
	lost    int
	dupsMax int
}

func brokers() []*broker {
	var bs []*broker
	// Measured here (3 runs): 0 lost; 6-7 delivered twice, every one a
	// second copy in the stream (stream count = deliveries = published +
	// duplicates): daprd's nats.go client buffers a publish while it
	// reconnects and flushes it after, though the publish already timed
	// out and was retried (with a new CloudEvent id, so JetStream's
	// Nats-Msg-Id deduplication cannot tell).
	nats := &broker{name: "nats-jetstream", want: outcome{lost: 0, dupsMax: -1}}
	nats.start = func(t *testing.T) (string, func(), func(context.Context) error) {
		n := procstest.StartNATS(t, procs.NATSOptions{})
		var err error
		if nats.daprd, err = procs.DaprdJetStreamPath(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Before daprd starts: pubsub.jetstream creates no stream. Without
		// one, every publish fails ("nats: no response from stream",
		// measured here) and the subscriber's consumer cannot be added.
		if err := n.CreateStream(ctx, stream, topic); err != nil {
			t.Fatal(err)
		}
		nats.stored = func(ctx context.Context) (uint64, error) { return n.StreamMessages(ctx, stream) }
		return n.Component(component, stream, "violations"), n.Pause, n.Start
	}
	// Measured here (3 runs): 0 lost (durable queue, persistent messages,
	// publisher confirms, and the publisher retrying the publishes daprd
	// failed: 8); 1 delivered twice.
	rabbit := &broker{name: "rabbitmq", want: outcome{lost: 0, dupsMax: -1}}
	rabbit.start = func(t *testing.T) (string, func(), func(context.Context) error) {
		r := procstest.StartRabbitMQ(t, procs.RabbitMQOptions{})
		return r.Component(component), r.Pause, r.Start
	}
	// Measured here (3 runs): 0 lost (QoS 1, persistent session, mosquitto
	// saving its queue on stop); 5 delivered twice with 4 publisher
	// retries: the QoS 1 messages in flight at the stop are sent again
	// after the reconnect (MQTT's at-least-once).
	mqtt := &broker{name: "mqtt-mosquitto", want: outcome{lost: 0, dupsMax: -1}}
	mqtt.start = func(t *testing.T) (string, func(), func(context.Context) error) {
		m := procstest.StartMosquitto(t, procs.MosquittoOptions{})
		return m.Component(component), m.Pause, m.Start
	}
	bs = append(bs, nats, rabbit, mqtt)
	return bs
}

func TestBrokers(t *testing.T) {
	for _, b := range brokers() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testBroker(t, b)
		})
	}
}

type env struct {
	t *testing.T
	// consumer is `violations serve` and its daprd (app-id subscriber).
	consumer *procstest.Consumer
	pub      daprclient.Client
	audit    *procs.Daprd
}

// newEnv starts a consumer of topic behind its daprd on the pubsub
// Component comp, and the audit's daprd to publish through. daprd is the
// daprd binary (empty: bin/daprd), grace the consumer's --run-grace.
func newEnv(t *testing.T, comp, daprd, grace string) *env {
	t.Helper()
	e := &env{t: t, consumer: procstest.StartConsumer(t, procstest.ConsumerOptions{Bin: violationsBin, Daprd: daprd,
		Args: []string{"--run-grace", grace, "--pubsub", component, "--topic", topic}, Component: comp})}
	e.audit = procstest.StartDaprd(t, procs.DaprdOptions{AppID: "audit", Bin: daprd, Resources: map[string]string{"pubsub.yaml": comp}})
	var err error
	if e.pub, err = newClient(e.audit.GRPCAddr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pub.Close)
	e.eventually("the consumer is ready (daprd read its subscription)", 60*time.Second, func() error { return e.get("/readyz", nil) })
	return e
}

// cleanRun publishes a run of clean violations Gatekeeper v3.23's way (one
// PublishEvent per message, in order, through the audit's daprd) and waits
// until the consumer has stored it.
func (e *env) cleanRun(run time.Time) {
	e.t.Helper()
	e.publish(marker(run, violation.AuditStarted))
	for i := range clean {
		e.publish(viol(run, resource(i)))
	}
	e.publish(marker(run, violation.AuditCompleted))
	e.waitRun(run)
	e.checkStored(run, clean)
}

func testBroker(t *testing.T, b *broker) {
	comp, pause, resume := b.start(t)
	// --run-grace 8s: a run is judged 8 s after its end, time for the
	// deliveries a broker stop delayed.
	e := newEnv(t, comp, b.daprd, "8s")

	// Run 1, Gatekeeper v3.23's way, no fault.
	e.cleanRun(runID(1))
	dups1 := e.metric(`violations_messages_ignored_total{reason="duplicate"}`)
	t.Logf("%s: run 1 (no fault): %d violations published, %d stored, %.0f delivered twice", b.name, clean, clean, dups1)

	// Run 2 through pkg/pubsub (what pubsub-forward and a retrying
	// publisher use: a queue, bulk publish, retries of what failed),
	// with the broker stopped for 10 s in the middle.
	ctx := context.Background()
	sys := pubsub.NewSystem(dapr.Driver(dapr.Options{Address: e.audit.GRPCAddr, Queue: queue.Options{MaxItems: 10 * faulty, BatchSize: 10}}))
	defer sys.Close(ctx)
	if err := sys.UpsertConnection(ctx, map[string]any{"component": component}, "audit-connection", "dapr"); err != nil {
		t.Fatal(err)
	}
	send := func(data []byte) {
		t.Helper()
		if err := sys.Publish(ctx, "audit-connection", topic, dapr.Message{Data: data, ContentType: dapr.GatekeeperContentType}); err != nil {
			t.Error(err)
		}
	}
	flush := func(what string) {
		t.Helper()
		fctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		if err := sys.Flush(fctx, "audit-connection"); err != nil {
			t.Fatalf("flushing %s: %v", what, err)
		}
	}
	run2 := runID(2)
	send(marker(run2, violation.AuditStarted))
	flush("run 2's start")
	paused, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		// Stop the broker once a tenth of the run is queued.
		for i := 0; i < faulty; i++ {
			if i == faulty/10 {
				close(paused)
			}
			send(viol(run2, resource(i)))
			time.Sleep(pace)
		}
	}()
	<-paused
	t.Logf("%s: stopping the broker for %s", b.name, outage)
	stopped := time.Now()
	pause()
	time.Sleep(outage)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err := resume(rctx)
	cancel()
	if err != nil {
		t.Fatalf("restarting the broker: %v", err)
	}
	t.Logf("%s: broker back after %s", b.name, time.Since(stopped).Round(100*time.Millisecond))
	// The last violation queued, then every message acknowledged by daprd
	// (taken by the broker) before the run's end is published.
	<-sent
	flush("run 2's violations")
	send(marker(run2, violation.AuditCompleted))
	flush("run 2's end")
	c, _ := sys.Connection("audit-connection")
	stats := c.(*dapr.Connection).Stats()
	t.Logf("%s: publisher: %s", b.name, stats)
	if stats.Lost() != 0 {
		t.Errorf("the publisher gave up on %d messages: %s", stats.Lost(), stats)
	}

	e.waitRun(run2)
	r := e.run(run2)
	lost := faulty - r.Received
	dups := int(e.metric(`violations_messages_ignored_total{reason="duplicate"}`) - dups1)
	deliveries := e.metric(`violations_messages_total{outcome="acked"}`)
	var onBroker string
	if b.stored != nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := b.stored(sctx)
		cancel()
		if err != nil {
			t.Errorf("reading the broker's count: %v", err)
		}
		// run 1's clean+2 messages and run 2's faulty+2.
		onBroker = fmt.Sprintf(", %d messages in the stream for %d published", n, clean+2+faulty+2)
	}
	t.Logf("%s: FAULT (broker stopped %s while publishing): %d violations published, %d stored, %d lost, %d delivered twice (consumer acked %.0f deliveries for %d messages%s; publisher retried %d)",
		b.name, outage, faulty, r.Received, lost, dups, deliveries, clean+2+faulty+2, onBroker, stats.Retried)
	if lost != b.want.lost {
		t.Errorf("%s: %d violations lost, want %d", b.name, lost, b.want.lost)
	}
	if b.want.dupsMax >= 0 && dups > b.want.dupsMax {
		t.Errorf("%s: %d violations delivered twice, want at most %d", b.name, dups, b.want.dupsMax)
	}
	e.checkStored(run2, faulty-b.want.lost)

	// The subscriber's daprd restarts (a rolling update): it resumes after
	// what it acked, nothing of runs 1 and 2 is delivered again (with
	// JetStream that is durableName's doing; RabbitMQ's durable queue and
	// MQTT's persistent session do the same). Run 3 is published after the
	// restart and waited for: a replay would come before it, in order.
	before := e.metric(`violations_messages_total{outcome="acked"}`)
	e.consumer.Daprd.Shutdown()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = e.consumer.Daprd.Start(sctx)
	cancel()
	if err != nil {
		t.Fatalf("restarting the subscriber's daprd: %v", err)
	}
	run3 := runID(3)
	send(marker(run3, violation.AuditStarted))
	flush("run 3's start")
	for i := range faulty {
		send(viol(run3, resource(i)))
	}
	flush("run 3's violations")
	send(marker(run3, violation.AuditCompleted))
	flush("run 3's end")
	e.waitRun(run3)
	e.checkStored(run3, faulty)
	replayed := int(e.metric(`violations_messages_total{outcome="acked"}`)-before) - (faulty + 2)
	t.Logf("%s: subscriber's daprd restarted: run 3's %d messages plus %d more delivered (a replay of runs 1 and 2 would be %d)", b.name, faulty+2, replayed, clean+2+faulty+2)
	// A few redeliveries of run 3's own messages are at-least-once; a
	// replay is all of runs 1 and 2.
	if replayed >= (clean+2+faulty+2)/2 {
		t.Errorf("%s: %d messages more than run 3's were delivered after the subscriber's restart: the stream was replayed", b.name, replayed)
	}
}

func newClient(addr string) (daprclient.Client, error) { return daprclient.NewClientWithAddress(addr) }

func runID(i int) time.Time { return time.Date(2026, 12, 1, 10, i, 0, 0, time.UTC) }

func resource(i int) string { return fmt.Sprintf("cm-%03d", i) }

func marker(run time.Time, m string) []byte {
	b, _ := json.Marshal(violation.AuditEvent{ID: run.Format(time.RFC3339), Message: m})
	return b
}

func viol(run time.Time, resource string) []byte {
	v := violation.Violation{ID: run.Format(time.RFC3339), EventType: violation.EventType, Group: "constraints.gatekeeper.sh",
		Version: "v1beta1", Kind: "K8sRequiredLabels", Name: "must-have-owner", Message: `you must provide labels: {"owner"}`,
		EnforcementAction: "deny", ResourceAPIVersion: "v1", ResourceKind: "ConfigMap", ResourceNamespace: "team-a", ResourceName: resource}
	b, _ := json.Marshal(v)
	return b
}

// publish sends a message as Gatekeeper's Dapr driver does: the SDK's
// PublishEvent of the JSON bytes, no content type (daprd takes text/plain).
func (e *env) publish(data []byte) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.pub.PublishEvent(ctx, component, topic, data); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) url(path string) string { return e.consumer.URL(path) }

func (e *env) get(path string, into any) error {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(e.url(path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(b, into)
}

func (e *env) eventually(what string, d time.Duration, f func() error) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *env) run(id time.Time) store.Run {
	e.t.Helper()
	var l api.RunList
	if err := e.get("/api/v1/runs", &l); err != nil {
		e.t.Fatal(err)
	}
	for _, r := range l.Items {
		if r.ID.Equal(id) {
			return r
		}
	}
	e.t.Fatalf("run %s not listed", id.Format(time.RFC3339))
	return store.Run{}
}

// waitRun waits until the run is finalized (its end received and the
// grace over).
func (e *env) waitRun(id time.Time) {
	e.t.Helper()
	e.eventually("run "+id.Format(time.RFC3339)+" finalized", 3*time.Minute, func() error {
		var l api.RunList
		if err := e.get("/api/v1/runs", &l); err != nil {
			return err
		}
		for _, r := range l.Items {
			if r.ID.Equal(id) {
				if r.State != store.RunFinalized {
					return fmt.Errorf("run is %s (%d received)", r.State, r.Received)
				}
				return nil
			}
		}
		return fmt.Errorf("run not listed")
	})
}

// checkStored requires the run to have received exactly n distinct
// violations and the store to hold exactly resources 0..n-1, open.
func (e *env) checkStored(id time.Time, n int) {
	e.t.Helper()
	if r := e.run(id); r.Received != n {
		e.t.Errorf("run %s received %d distinct violations, want %d: %+v", id.Format(time.RFC3339), r.Received, n, r)
	}
	var l api.ViolationList
	if err := e.get("/api/v1/violations?limit=1000", &l); err != nil {
		e.t.Fatal(err)
	}
	var got, want []string
	for _, v := range l.Items {
		if v.State == store.StateOpen {
			got = append(got, v.Resource.Name)
		}
	}
	for i := range n {
		want = append(want, resource(i))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		e.t.Errorf("open violations after run %s: %d %v, want %d (cm-000..cm-%03d)", id.Format(time.RFC3339), len(got), got, n, n-1)
	}
}

// metric returns a counter's value from the consumer's /metrics (0 when
// absent).
func (e *env) metric(series string) float64 {
	e.t.Helper()
	var body []byte
	e.eventually("/metrics", 30*time.Second, func() error {
		c := http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(e.url("/metrics"))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	})
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(bytes.TrimSpace(m[1])), 64)
	if err != nil {
		e.t.Fatalf("metric %s: %v", series, err)
	}
	return v
}
