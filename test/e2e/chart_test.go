package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
)

// pubsubSendBin is cmd/pubsub-send, built for the package's tests.
var pubsubSendBin string

func TestMain(m *testing.M) { os.Exit(procstest.MainWithBuild(m, "./cmd/pubsub-send", &pubsubSendBin)) }

// TestChartComponentWithRealDaprd renders charts/gatekeeper-pubsub with
// pubsub on, hands the rendered Dapr Component (its redisHost pointed at
// the test's Redis, its secret store the local one) to a real daprd for
// app-id audit, reads the rendered connection ConfigMap with pkg/pubsub,
// and publishes: the chart's output is proven by a real sidecar and broker.
func TestChartComponentWithRealDaprd(t *testing.T) {
	e := newEnv(t, false)
	root, err := procs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := quickstart.WriteSecrets(t.TempDir(), e.redis.Password)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Chart(context.Background(), filepath.Join(root, "charts", "gatekeeper-pubsub"), render.ChartOptions{
		ReleaseName:  "gatekeeper-pubsub",
		Namespace:    "gatekeeper-system",
		IncludeTests: true,
		Set: []string{
			"audit.enablePubsub=true",
			"component.metadata[0].name=redisHost",
			"component.metadata[0].value=" + e.redis.Addr,
			// --set on a list index replaces the whole list: repeat the
			// chart's secretKeyRef item.
			"component.metadata[1].name=redisPassword",
			"component.metadata[1].secretKeyRef.name=" + quickstart.SecretName,
			"component.metadata[1].secretKeyRef.key=" + quickstart.SecretKey,
			"component.secretStore=" + quickstart.SecretStore,
			"component.scopes[0]=audit",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var component []byte
	var cm *connection.Connection
	var cmData map[string]any
	var testPod *corev1.Pod
	for _, o := range objs {
		switch o.Kind() {
		case "Pod":
			testPod = &corev1.Pod{}
			b, _ := yaml.Marshal(o.Obj)
			if err := yaml.Unmarshal(b, testPod); err != nil {
				t.Fatal(err)
			}
		case "Component":
			if component != nil {
				t.Fatalf("chart rendered more than one Component with the subscriber off")
			}
			// daprd standalone ignores metadata.namespace; keep the object as rendered.
			if component, err = yaml.Marshal(o.Obj); err != nil {
				t.Fatal(err)
			}
		case "ConfigMap":
			cm = connection.FromObject(o.Obj, "")
			cmData, _ = o.Obj["data"].(map[string]any)
		}
	}
	if component == nil || cm == nil {
		t.Fatalf("chart did not render a Component and a connection ConfigMap")
	}
	if err := cm.Err(); err != nil {
		t.Fatalf("chart's connection ConfigMap: %v", err)
	}
	cc := cm
	if cc.Name != quickstart.Connection {
		t.Fatalf("chart's connection is %q, want %q", cc.Name, quickstart.Connection)
	}

	store := quickstart.Resources(e.redis.Addr, secrets)["secretstore.yaml"]
	audit := procstest.StartDaprd(t, procs.DaprdOptions{
		AppID:     quickstart.AuditAppID,
		Resources: map[string]string{"secretstore.yaml": store, "component.yaml": string(component)},
	})
	sys := pubsub.NewSystem(dapr.Driver(dapr.Options{Address: audit.GRPCAddr}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer func() { _ = sys.Close(ctx) }()
	if err := sys.UpsertConnection(ctx, cc.Config, cc.Name, cc.Driver); err != nil {
		t.Fatal(err)
	}
	sent := violations(10)
	for _, v := range sent {
		if err := sys.Publish(ctx, cc.Name, quickstart.Channel, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Flush(ctx, cc.Name); err != nil {
		t.Fatalf("%v\ncomponent:\n%s", err, component)
	}
	assertExactly(t, sent, e.inbox.waitFor(t, len(sent), 60*time.Second))

	// The chart's `helm test` pod: run its pubsub-send command with its
	// args, the connection ConfigMap mounted as files, against the audit
	// sidecar. It must succeed, deliver one more violation, and shut the
	// sidecar down so the pod can complete.
	if testPod == nil || len(testPod.Spec.Containers) != 1 {
		t.Fatal("chart rendered no helm test pod with one container")
	}
	mount := t.TempDir()
	for k, v := range cmData {
		if err := os.WriteFile(filepath.Join(mount, k), []byte(connection.Scalar(v)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := testPod.Spec.Containers[0]
	if len(c.Command) != 1 || c.Command[0] != "pubsub-send" {
		t.Fatalf("helm test pod runs %v, want pubsub-send", c.Command)
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = strings.Replace(a, "/etc/gatekeeper-pubsub/connection", mount, 1)
	}
	// The built binary, as the pod runs it.
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(pubsubSendBin, args...)
	cmd.Env = append(os.Environ(), "DAPR_GRPC_ENDPOINT="+audit.GRPCAddr)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm test command %v: %v:\n%s%s", args, err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "sent 1 of 1 violation(s)") {
		t.Errorf("helm test command printed %q", stdout.String())
	}
	got := e.inbox.waitFor(t, len(sent)+1, 30*time.Second)
	if len(got) != len(sent)+1 {
		t.Errorf("received %d violations, want the %d sent and the helm test's one", len(got), len(sent))
	}
	deadline := time.Now().Add(20 * time.Second)
	for !audit.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("--shutdown-sidecar did not stop the audit sidecar")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if t.Failed() {
		fmt.Fprintf(os.Stderr, "rendered component:\n%s\n", component)
	}
}
