// Package e2e runs the Gatekeeper pubsub quick start without Kubernetes: a
// real redis-server with a password, a real daprd for app-id "audit"
// publishing through pkg/pubsub, and a real daprd for app-id "subscriber" in
// front of the fake subscriber.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/subscriber"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// env is one quick start: Redis, the subscriber app and its sidecar, and
// the audit's sidecar (prepared, started by the test when it wants).
type env struct {
	redis *procs.Redis
	audit *procs.Daprd
	sub   *subscriber.Subscriber
	inbox *inbox
}

// inbox collects what the subscriber received.
type inbox struct {
	mu    sync.Mutex
	got   []violation.Violation
	forms []subscriber.Format
	lines bytes.Buffer
	ch    chan struct{}
}

func (b *inbox) add(v violation.Violation, f subscriber.Format) {
	b.mu.Lock()
	b.got = append(b.got, v)
	b.forms = append(b.forms, f)
	b.mu.Unlock()
	select {
	case b.ch <- struct{}{}:
	default:
	}
}

func (b *inbox) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lines.Write(p)
}

func (b *inbox) snapshot() ([]violation.Violation, []subscriber.Format) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]violation.Violation(nil), b.got...), append([]subscriber.Format(nil), b.forms...)
}

// waitFor waits until n violations arrived, then a little longer so that
// extra deliveries would be seen too.
func (b *inbox) waitFor(t *testing.T, n int, timeout time.Duration) []violation.Violation {
	t.Helper()
	deadline := time.After(timeout)
	for {
		got, _ := b.snapshot()
		if len(got) >= n {
			time.Sleep(500 * time.Millisecond)
			got, _ = b.snapshot()
			return got
		}
		select {
		case <-b.ch:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("subscriber received %d of %d violations within %s", len(got), n, timeout)
		}
	}
}

// envOptions vary the quick start for fault tests.
type envOptions struct {
	startAudit bool
	// appendOnly makes Redis persist, so a restart keeps the streams.
	appendOnly bool
	// metadata is extra pubsub.redis metadata for both sidecars.
	metadata map[string]string
	// auditArgs are extra daprd flags for the audit sidecar.
	auditArgs []string
	// auditToken makes the audit sidecar require DAPR_API_TOKEN.
	auditToken string
}

func newEnv(t *testing.T, startAudit bool) *env {
	t.Helper()
	return newEnvWith(t, envOptions{startAudit: startAudit})
}

func newEnvWith(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{inbox: &inbox{ch: make(chan struct{}, 1)}}
	e.redis = procstest.StartRedis(t, procs.RedisOptions{Password: "quickstart-" + fmt.Sprint(time.Now().UnixNano()), AppendOnly: o.appendOnly})
	secrets, err := quickstart.WriteSecrets(t.TempDir(), e.redis.Password)
	if err != nil {
		t.Fatal(err)
	}
	resources := quickstart.ResourcesWith(e.redis.Addr, secrets, o.metadata)

	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e.sub, err = subscriber.New(subscriber.Options{
		Addr:        fmt.Sprintf("127.0.0.1:%d", port),
		Topic:       quickstart.Channel,
		Out:         e.inbox,
		OnViolation: e.inbox.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.sub.Start() }()
	t.Cleanup(func() { _ = e.sub.Stop() })
	procstest.StartDaprd(t, procs.DaprdOptions{AppID: quickstart.SubscriberAppID, AppPort: port, Resources: resources, EnableAPILogging: true})

	e.audit = procstest.NewDaprd(t, procs.DaprdOptions{AppID: quickstart.AuditAppID, Resources: resources, ExtraArgs: o.auditArgs, APIToken: o.auditToken})
	if o.startAudit {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := e.audit.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// connect upserts the quick start's connection ConfigMap into a System
// whose dapr driver talks to the audit sidecar.
func (e *env) connect(t *testing.T) *pubsub.System {
	t.Helper()
	return e.connectWith(t, dapr.Options{})
}

// connectWith is connect with driver options (queue bounds, metrics).
func (e *env) connectWith(t *testing.T, opts dapr.Options) *pubsub.System {
	t.Helper()
	opts.Address = e.audit.GRPCAddr
	cc, err := pubsub.ParseConnection("audit-connection.yaml", []byte(quickstart.ConnectionConfigMap()))
	if err != nil {
		t.Fatal(err)
	}
	sys := pubsub.NewSystem(dapr.Driver(opts))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Close(ctx)
	})
	if err := sys.UpsertConnection(context.Background(), cc.Config, cc.Name, cc.Driver); err != nil {
		t.Fatal(err)
	}
	return sys
}

// violations returns n violations that differ in resource name.
func violations(n int) []violation.Violation {
	out := make([]violation.Violation, n)
	at := time.Date(2023, 7, 18, 21, 21, 52, 0, time.UTC)
	for i := range out {
		v := violation.Example(at)
		v.ResourceName = fmt.Sprintf("nginx-%04d", i)
		v.ConstraintAnnotations = map[string]string{"index": fmt.Sprint(i)}
		out[i] = v
	}
	return out
}

// normalize makes a violation comparable after a trip through JSON.
func normalize(t *testing.T, v violation.Violation) violation.Violation {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out violation.Violation
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertExactly checks that got holds each of sent exactly once, equal
// field by field.
func assertExactly(t *testing.T, sent, got []violation.Violation) {
	t.Helper()
	byName := map[string]violation.Violation{}
	for _, v := range sent {
		byName[v.ResourceName] = normalize(t, v)
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g.ResourceName]++
		want, ok := byName[g.ResourceName]
		if !ok {
			t.Errorf("received a violation that was not sent: %+v", g)
			continue
		}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("violation %s changed on the way:\n got: %+v\nwant: %+v", g.ResourceName, g, want)
		}
	}
	for name := range byName {
		if seen[name] != 1 {
			t.Errorf("violation %s received %d times, want exactly once", name, seen[name])
		}
	}
	if len(got) != len(sent) {
		t.Errorf("received %d violations, sent %d", len(got), len(sent))
	}
}

func TestQuickStart(t *testing.T) {
	e := newEnv(t, true)
	sys := e.connect(t)
	sent := violations(50)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, v := range sent {
		if err := sys.Publish(ctx, quickstart.Connection, quickstart.Channel, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Flush(ctx, quickstart.Connection); err != nil {
		t.Fatal(err)
	}
	got := e.inbox.waitFor(t, len(sent), 60*time.Second)
	assertExactly(t, sent, got)
	_, forms := e.inbox.snapshot()
	for i, f := range forms {
		if f != subscriber.Structured {
			t.Fatalf("violation %d arrived as %s, want a JSON object (structured)", i, f)
		}
	}
	// The subscriber logs one JSON line per violation.
	e.inbox.mu.Lock()
	lines := bytes.Count(e.inbox.lines.Bytes(), []byte(`"eventType":"violation_audited"`))
	e.inbox.mu.Unlock()
	if lines != len(sent) {
		t.Errorf("subscriber logged %d violation lines, want %d", lines, len(sent))
	}
}

// TestPublisherBeforeSidecar starts publishing while the audit's daprd is
// not running yet: nothing may be lost once it arrives.
func TestPublisherBeforeSidecar(t *testing.T) {
	e := newEnv(t, false)
	sys := e.connect(t)
	sent := violations(20)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Publish returns once queued; Flush waits for the sidecar.
	for _, v := range sent {
		if err := sys.Publish(ctx, quickstart.Connection, quickstart.Channel, v); err != nil {
			t.Fatal(err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- sys.Flush(ctx, quickstart.Connection) }()
	time.Sleep(2 * time.Second)
	select {
	case err := <-errc:
		t.Fatalf("flush finished before the sidecar started: %v", err)
	default:
	}
	if err := e.audit.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	assertExactly(t, sent, e.inbox.waitFor(t, len(sent), 60*time.Second))
}

// TestGatekeeperPayload publishes as Gatekeeper's own dapr driver does
// (the JSON bytes without a content type): the subscriber must still decode
// the violation, from the JSON string it receives.
func TestGatekeeperPayload(t *testing.T) {
	e := newEnv(t, true)
	client, err := daprclient.NewClientWithAddress(e.audit.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sent := violations(3)
	for _, v := range sent {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.PublishEvent(context.Background(), quickstart.Component, quickstart.Channel, b); err != nil {
			t.Fatal(err)
		}
	}
	assertExactly(t, sent, e.inbox.waitFor(t, len(sent), 60*time.Second))
	_, forms := e.inbox.snapshot()
	for i, f := range forms {
		if f != subscriber.JSONString {
			t.Errorf("violation %d decoded as %s, want %s (Gatekeeper's payload)", i, f, subscriber.JSONString)
		}
	}
}
