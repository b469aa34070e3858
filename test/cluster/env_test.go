// Package cluster_test installs the chart, the overlays and Gatekeeper's own
// chart into a real kube-apiserver (with kube-controller-manager, the real
// Dapr sidecar injector and PodSecurity admission), runs the pods through
// the kubelet stand-in (real Gatekeeper audit, real daprd, real Redis), and
// checks that what Gatekeeper's audit finds arrives at the subscriber.
package cluster_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// playground is where the violating objects live (the namespace of
// Gatekeeper's own test constraint).
const playground = cluster.Playground

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
	if err := e.PrepareNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InstallGatekeeper(ctx, version, gkValues); err != nil {
		t.Fatal(err)
	}
}

// chartValues are our chart's values for the environment, auditing every
// 5 s.
func chartValues(e *cluster.Env, version string) map[string]any { return e.ChartValues(version, 5) }

// readGatekeeperFile reads a file of the Gatekeeper module at version.
func readGatekeeperFile(t *testing.T, version, path string) []byte {
	t.Helper()
	b, err := cluster.GatekeeperFile(context.Background(), version, path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// applyPolicy applies Gatekeeper's own test template and constraint and
// creates n ConfigMaps that violate it.
func applyPolicy(t *testing.T, e *cluster.Env, version string, n int) {
	t.Helper()
	ctx := context.Background()
	if err := e.ApplyPolicy(ctx, version); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateViolators(ctx, 0, n); err != nil {
		t.Fatal(err)
	}
}

// totalViolations reads the constraint's status.totalViolations.
func totalViolations(ctx context.Context, e *cluster.Env, _ string) (int64, error) {
	return e.TotalViolations(ctx)
}

// received decodes the subscriber's output.
func received(logs string) []violation.Violation { return cluster.Received(logs) }

// waitDelivered waits until the constraint counts want violations and one
// audit's worth of them (want distinct objects) has arrived at the
// subscriber, and returns those.
func waitDelivered(t *testing.T, e *cluster.Env, constraint string, want int, timeout time.Duration) []violation.Violation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var total int64
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
	root, err := procs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root}, parts...)...)
}
