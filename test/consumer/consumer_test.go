// Package consumer_test runs `violations serve` as a process behind a real
// daprd subscribed through a real Redis, and publishes audit runs as
// Gatekeeper v3.23's Dapr driver does (the Go SDK's PublishEvent of the
// message's JSON, through the audit's own daprd), every message twice.
package consumer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

var violationsBin string

func TestMain(m *testing.M) { os.Exit(procstest.MainWithBuild(m, "./cmd/violations", &violationsBin)) }

const component = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: %s
    - name: redisPassword
      value: %s
    - name: redeliverInterval
      value: 1s
    - name: processingTimeout
      value: 3s
`

type env struct {
	t     *testing.T
	store string
	// consumer is `violations serve` and its daprd.
	consumer *procstest.Consumer
	pub      daprclient.Client
	// comp is the pubsub Component, for more replicas.
	comp map[string]string
}

func newEnv(t *testing.T, storeURL string, extra ...string) *env {
	t.Helper()
	redis := procstest.StartRedis(t, procs.RedisOptions{Password: "consumer-test"})
	return newEnvOn(t, map[string]string{"pubsub.yaml": fmt.Sprintf(component, redis.Addr, redis.Password)}, storeURL, extra...)
}

// newEnvOn starts a consumer and its daprd on the pubsub Component comp,
// and the audit's daprd to publish through.
func newEnvOn(t *testing.T, comp map[string]string, storeURL string, extra ...string) *env {
	t.Helper()
	e := newReplica(t, comp, storeURL, extra...)
	e.comp = comp
	audit := procstest.StartDaprd(t, procs.DaprdOptions{AppID: "audit", Resources: comp})
	var err error
	if e.pub, err = daprclient.NewClientWithAddress(audit.GRPCAddr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pub.Close)
	return e
}

// newReplica starts one consumer and its daprd (app-id subscriber: every
// replica is in the same consumer group).
func newReplica(t *testing.T, comp map[string]string, storeURL string, extra ...string) *env {
	t.Helper()
	return &env{t: t, store: storeURL, consumer: procstest.StartConsumer(t, procstest.ConsumerOptions{
		Bin: violationsBin, Store: storeURL,
		Args: append([]string{"--run-grace", "2s", "--dead-letter-topic", "audit-dead",
			"--max-message-bytes", "65536", "--log-level", "debug"}, extra...),
		Component: comp["pubsub.yaml"],
	})}
}

func (e *env) url(path string) string { return e.consumer.URL(path) }

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
		time.Sleep(100 * time.Millisecond)
	}
}

// publish sends raw bytes as Gatekeeper's Dapr driver does.
func (e *env) publish(data []byte) {
	e.t.Helper()
	if err := e.pub.PublishEvent(context.Background(), "pubsub", "audit-channel", data); err != nil {
		e.t.Fatal(err)
	}
}

func runID(i int) time.Time { return time.Date(2026, 12, 1, 10, i, 0, 0, time.UTC) }

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

// auditRun publishes a run as v3.23 does, each message twice (an
// at-least-once broker may deliver so); complete false leaves out the end.
func (e *env) auditRun(run time.Time, complete bool, resources ...string) {
	msgs := [][]byte{marker(run, violation.AuditStarted)}
	for _, r := range resources {
		msgs = append(msgs, viol(run, r))
	}
	if complete {
		msgs = append(msgs, marker(run, violation.AuditCompleted))
	}
	for _, m := range msgs {
		e.publish(m)
		e.publish(m)
	}
}

func (e *env) get(path string, into any) error {
	resp, err := http.Get(e.url(path))
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

func (e *env) runState(run time.Time) string {
	var l api.RunList
	if err := e.get("/api/v1/runs", &l); err != nil {
		return err.Error()
	}
	for _, r := range l.Items {
		if r.ID.Equal(run) {
			return r.State
		}
	}
	return "absent"
}

func (e *env) waitRun(run time.Time, state string) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("run %s %s", run.Format(time.RFC3339), state), 60*time.Second, func() error {
		if got := e.runState(run); got != state {
			return fmt.Errorf("run is %s", got)
		}
		return nil
	})
}

// cli runs the violations CLI against the consumer.
func (e *env) cli(args ...string) string {
	e.t.Helper()
	cmd := exec.Command(violationsBin, append(args, "--server", e.url(""))...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		e.t.Fatalf("violations %v: %v\n%s", args, err, stderr.String())
	}
	return out.String()
}

func (e *env) states() map[string]string {
	e.t.Helper()
	var vs []store.Violation
	if err := json.Unmarshal([]byte(e.cli("list", "--state", "all", "-o", "json")), &vs); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range vs {
		out[v.Resource.Name] = v.State
	}
	return out
}

func metric(t *testing.T, e *env, line string) bool {
	t.Helper()
	resp, err := http.Get(e.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return bytes.Contains(b, []byte(line+"\n"))
}

// TestConsumerSQLite runs with the default bulk delivery, TestConsumerPostgres
// with daprd delivering one message per request: both paths through the
// real daprd.
func TestConsumerSQLite(t *testing.T) {
	testConsumer(t, "sqlite://"+filepath.Join(t.TempDir(), "violations.db"), "bulk")
}

func TestConsumerPostgres(t *testing.T) {
	pg := procstest.StartPostgres(t, procs.PostgresOptions{})
	testConsumer(t, pg.URL(), "single", "--bulk-max-messages", "0")
}

func testConsumer(t *testing.T, storeURL, mode string, extra ...string) {
	e := newEnv(t, storeURL, extra...)
	e.eventually("ready (daprd read the subscription)", 30*time.Second, func() error { return e.get("/readyz", nil) })

	// Run 1: a, b, c; and poison in the stream.
	e.auditRun(runID(1), true, "a", "b", "c")
	e.publish([]byte("garbage, not JSON"))
	e.publish(viol(runID(1), strings.Repeat("x", 100<<10))) // over --max-message-bytes
	unknown := bytes.Replace(viol(runID(1), "z"), []byte(violation.EventType), []byte("violation_admission"), 1)
	e.publish(unknown)
	e.waitRun(runID(1), store.RunFinalized)
	if got := fmt.Sprint(e.states()); got != "map[a:open b:open c:open]" {
		t.Fatalf("after run 1: %s", got)
	}
	// Poison is dropped (to the dead-letter topic) and counted, never
	// retried; the unknown event type is acked and counted.
	e.eventually("poison counted", 30*time.Second, func() error {
		for _, line := range []string{
			`violations_messages_dropped_total{reason="not-json"} 1`,
			`violations_messages_dropped_total{reason="too-large"} 1`,
			`violations_messages_ignored_total{reason="unknown-event-type"} 1`,
		} {
			if !metric(t, e, line) {
				return fmt.Errorf("metrics lack %s", line)
			}
		}
		return nil
	})

	// Run 2 without c: c is resolved at run 2.
	e.auditRun(runID(2), true, "a", "b")
	e.waitRun(runID(2), store.RunFinalized)
	if got := fmt.Sprint(e.states()); got != "map[a:open b:open c:resolved]" {
		t.Fatalf("after run 2: %s", got)
	}

	// Run 3: the consumer is killed in the middle and restarted; nothing
	// is lost, nothing counted twice.
	e.publish(marker(runID(3), violation.AuditStarted))
	e.publish(viol(runID(3), "a"))
	e.eventually("run 3 seen", 30*time.Second, func() error {
		if s := e.runState(runID(3)); s != store.RunPending {
			return fmt.Errorf("run 3 is %s", s)
		}
		return nil
	})
	e.consumer.App.Kill()
	e.publish(viol(runID(3), "b"))
	e.publish(viol(runID(3), "b"))
	e.publish(marker(runID(3), violation.AuditCompleted))
	e.consumer.Start()
	e.waitRun(runID(3), store.RunFinalized)
	var runs api.RunList
	if err := e.get("/api/v1/runs", &runs); err != nil {
		t.Fatal(err)
	}
	if r := runs.Items[0]; r.Received != 2 || r.StillOpen != 2 || r.Resolved != 0 {
		t.Fatalf("run 3 after the restart: %+v, want 2 received, 2 still open", r)
	}

	// Run 4 never completes: nothing is resolved, though b is missing.
	e.auditRun(runID(4), false, "a")
	time.Sleep(4 * time.Second) // twice the grace
	if s := e.runState(runID(4)); s != store.RunPending {
		t.Fatalf("run 4 without its end is %s, want pending", s)
	}
	if got := fmt.Sprint(e.states()); got != "map[a:open b:open c:resolved]" {
		t.Fatalf("after the incomplete run 4: %s", got)
	}

	// An old run redelivered after newer complete runs changes nothing.
	e.auditRun(runID(1), true, "a", "b", "c", "d")
	// Run 5 completes (without b): run 4 becomes incomplete, b resolved.
	e.auditRun(runID(5), true, "a", "c")
	e.waitRun(runID(5), store.RunFinalized)
	if got := fmt.Sprint(e.states()); got != "map[a:open b:resolved c:open]" {
		t.Fatalf("after run 5: %s (d of the redelivered old run must not appear; c reopens)", got)
	}
	if s := e.runState(runID(4)); s != store.RunIncomplete {
		t.Fatalf("run 4 is %s, want incomplete", s)
	}

	// The CLI: a table with ages, a timeline.
	table := e.cli("list", "--state", "all")
	if !strings.HasPrefix(table, "KEY ") || !strings.Contains(table, "ConfigMap team-a/c") || strings.Count(table, "\n") != 4 {
		t.Fatalf("list table:\n%s", table)
	}
	var c []store.Violation
	_ = json.Unmarshal([]byte(e.cli("list", "-o", "json", "--resource-kind", "ConfigMap", "--namespace", "team-a")), &c)
	var key string
	for _, v := range c {
		if v.Resource.Name == "c" {
			key = v.Key
		}
	}
	show := e.cli("show", key)
	for _, want := range []string{"opened", "resolved (absent)", "reopened", "State: open", "Runs: 2"} {
		if !strings.Contains(strings.Join(strings.Fields(show), " "), want) {
			t.Fatalf("show %s lacks %q:\n%s", key, want, show)
		}
	}
	runsTable := e.cli("runs")
	if strings.Count(runsTable, "finalized") != 4 || !strings.Contains(runsTable, "incomplete") {
		t.Fatalf("runs:\n%s", runsTable)
	}

	if line := `gatekeeper_violations_open{cluster="default",constraint_kind="K8sRequiredLabels",constraint_name="must-have-owner",enforcement_action="deny",namespace="team-a"} 2`; !metric(t, e, line) {
		t.Errorf("metrics lack %s", line)
	}
	// daprd delivered in the mode asked for, and only in it.
	other := map[string]string{"bulk": "single", "single": "bulk"}[mode]
	if metricHas(t, e, `violations_deliveries_total{mode="`+other+`"}`) || !metricHas(t, e, `violations_deliveries_total{mode="`+mode+`"}`) {
		t.Errorf("daprd did not deliver only in %s mode: %s", mode, metricLines(t, e, "violations_deliveries_total"))
	}
}

func metricLines(t *testing.T, e *env, name string) string {
	t.Helper()
	resp, err := http.Get(e.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

func metricHas(t *testing.T, e *env, prefix string) bool {
	return strings.Contains(metricLines(t, e, prefix), prefix)
}
