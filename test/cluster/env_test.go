// Package cluster_test installs the chart, the overlays and Gatekeeper's own
// chart into a real kube-apiserver (with kube-controller-manager, the real
// Dapr sidecar injector and PodSecurity admission), runs the pods through
// the kubelet stand-in (real Gatekeeper audit, real daprd, real Redis), and
// checks that what Gatekeeper's audit finds arrives at the subscriber.
package cluster_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/testenv"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// playground is where the violating objects live (the namespace of
// Gatekeeper's own test constraint).
const playground = "gatekeeper-test-playground"

// startEnv starts the whole environment for t; its logs are printed when t
// fails.
func startEnv(t *testing.T, opts cluster.Options) *cluster.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts.Step = func(s string) { t.Log(s) }
	e, err := cluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the environment: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() || verbose {
			t.Logf("environment logs:\n%s", e.Logs())
		}
		e.Stop()
	})
	return e
}

// prepare makes the cluster a user's would be before our chart: the
// namespaces labelled PodSecurity restricted, Gatekeeper's own chart at
// version (with gkValues), the Redis Secret in both namespaces.
func prepare(t *testing.T, e *cluster.Env, version string, gkValues map[string]any) {
	t.Helper()
	ctx := context.Background()
	for _, ns := range []string{cluster.GatekeeperNS, cluster.SubscriberNS, playground} {
		if err := e.CreateNamespace(ctx, ns, "restricted"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.InstallGatekeeper(ctx, version, gkValues); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{cluster.GatekeeperNS, cluster.SubscriberNS} {
		if err := e.CreateRedisSecret(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
}

// chartValues are our chart's values for the environment: pubsub on, the
// subscriber on (its namespace made by prepare), the Component pointed at
// the test's Redis, audits every few seconds.
func chartValues(e *cluster.Env, version string) map[string]any {
	return map[string]any{
		"gatekeeperVersion": version,
		"auditInterval":     5,
		"audit":             map[string]any{"enablePubsub": true},
		"component": map[string]any{"metadata": []any{
			map[string]any{"name": "redisHost", "value": e.Redis.Addr},
			map[string]any{"name": "redisPassword", "secretKeyRef": map[string]any{"name": "redis", "key": "redis-password"}},
		}},
		"subscriber": map[string]any{"enabled": true, "createNamespace": false},
	}
}

// readGatekeeperFile reads a file of the Gatekeeper module at version.
func readGatekeeperFile(t *testing.T, version, path string) []byte {
	t.Helper()
	dir, err := cluster.ModuleDir(context.Background(), "github.com/open-policy-agent/gatekeeper/v3", version)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// applyPolicy applies Gatekeeper's own test ConstraintTemplate
// (k8srequiredlabels) and its audit constraint cm-must-have-gk-audit
// (ConfigMaps in gatekeeper-test-playground labelled
// test.gatekeeper.sh/audit=yes must have the label gatekeeper), then
// creates n ConfigMaps that violate it.
func applyPolicy(t *testing.T, e *cluster.Env, version string, n int) {
	t.Helper()
	ctx := context.Background()
	for _, f := range []string{"test/bats/tests/templates/k8srequiredlabels_template.yaml", "test/bats/tests/constraints/all_cm_must_have_gatekeeper_audit.yaml"} {
		// The constraint's kind is served once Gatekeeper made its CRD from
		// the template; Apply waits for it.
		if err := e.Apply(ctx, readGatekeeperFile(t, version, f), ""); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("violator-%03d", i), Namespace: playground,
			Labels: map[string]string{"test.gatekeeper.sh/audit": "yes"},
		}}
		if _, err := e.Kube.Client.CoreV1().ConfigMaps(playground).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

var constraintGVR = schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8srequiredlabels"}

// totalViolations reads the constraint's status.totalViolations (-1 before
// the first audit).
func totalViolations(ctx context.Context, e *cluster.Env, name string) (int64, error) {
	dyn, err := dynamic.NewForConfig(e.Kube.Config)
	if err != nil {
		return 0, err
	}
	u, err := dyn.Resource(constraintGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	v, ok, _ := unstructured.NestedInt64(u.Object, "status", "totalViolations")
	if !ok {
		return -1, nil
	}
	return v, nil
}

// received decodes the subscriber's output: one JSON violation per line.
func received(logs string) []violation.Violation {
	var out []violation.Violation
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var v violation.Violation
		if json.Unmarshal([]byte(line), &v) == nil && v.EventType == violation.EventType {
			out = append(out, v)
		}
	}
	return out
}

// waitDelivered waits until the constraint counts want violations and one
// audit's worth of them (want distinct objects) has arrived at the
// subscriber, and returns those.
func waitDelivered(t *testing.T, e *cluster.Env, constraint string, want int, timeout time.Duration) []violation.Violation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var total int64 = -1
	var got []violation.Violation
	for {
		total, _ = totalViolations(ctx, e, constraint)
		got = received(e.Kubelet.Logs(cluster.SubscriberNS, "sub-", "go-sub"))
		if total == int64(want) && len(byResource(got)) >= want {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d violations: constraint %s totalViolations=%d, subscriber received %d (%d distinct objects)\nsubscriber output:\n%s",
				want, constraint, total, len(got), len(byResource(got)), e.Kubelet.Logs(cluster.SubscriberNS, "sub-", "go-sub"))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func byResource(vs []violation.Violation) map[string]violation.Violation {
	m := map[string]violation.Violation{}
	for _, v := range vs {
		m[v.ResourceNamespace+"/"+v.ResourceName] = v
	}
	return m
}

// podOf returns the pod of a Deployment (by name prefix) in ns, waiting
// for it to exist.
func podOf(t *testing.T, e *cluster.Env, ns, deployment string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		pods, err := e.Kube.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range pods.Items {
				if strings.HasPrefix(pods.Items[i].Name, deployment+"-") {
					return &pods.Items[i]
				}
			}
		}
		select {
		case <-ctx.Done():
			rs, _ := e.Kube.Client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
			var conds []string
			if rs != nil {
				for _, r := range rs.Items {
					for _, c := range r.Status.Conditions {
						conds = append(conds, r.Name+": "+c.Message)
					}
				}
			}
			t.Fatalf("no pod of Deployment %s/%s: %v; ReplicaSet conditions: %v", ns, deployment, err, conds)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sidecar returns the pod's daprd container, failing t when the injector
// did not add one.
func sidecar(t *testing.T, p *corev1.Pod) corev1.Container {
	t.Helper()
	for _, c := range p.Spec.Containers {
		if c.Name == "daprd" {
			return c
		}
	}
	t.Fatalf("pod %s/%s has no daprd container: the Dapr injector did not inject it (containers: %v)", p.Namespace, p.Name, containerNames(p))
	return corev1.Container{}
}

func containerNames(p *corev1.Pod) []string {
	var n []string
	for _, c := range p.Spec.Containers {
		n = append(n, c.Name)
	}
	return n
}

func repoPath(t *testing.T, parts ...string) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root}, parts...)...)
}
