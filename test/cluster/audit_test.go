package cluster_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// TestHelmInstallAuditDelivers is the documented setup for real: Gatekeeper's
// own chart (its audit off, as our NOTES say), then our chart installed with
// Helm's action.Install into namespaces labelled PodSecurity restricted.
// Every object is accepted, the pods that kube-controller-manager creates
// get the real daprd from the real injector and pass PodSecurity
// restricted, and Gatekeeper's own audit (run from the pod spec by the
// kubelet stand-in) publishes exactly the violations its constraint counts,
// which the subscriber receives field by field. Both Gatekeeper versions:
// v3.17.0 with the ConfigMap form (--enable-pub-sub), v3.23.1 with the
// Connection form (--enable-violation-export), whose audit also announces
// its start and end.
func TestHelmInstallAuditDelivers(t *testing.T) {
	for _, version := range cluster.GatekeeperVersions {
		t.Run(version, func(t *testing.T) {
			const n = 12
			e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
			prepare(t, e, version, nil)
			ctx := context.Background()
			rel, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, chartValues(e, version), false)
			if err != nil {
				t.Fatal(err)
			}
			if rel.Info.Status != "deployed" {
				t.Fatalf("release status %s", rel.Info.Status)
			}

			audit := podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit")
			d := sidecar(t, audit)
			if sc := d.SecurityContext; sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("injected daprd securityContext = %+v, want seccompProfile RuntimeDefault from dapr.io/sidecar-seccomp-profile-type", sc)
			}
			checkSidecarBounds(t, audit, d)
			sub := podOf(t, e, cluster.SubscriberNS, "sub")
			checkSidecarBounds(t, sub, sidecar(t, sub))

			applyPolicy(t, e, version, n)
			got := waitDelivered(t, e, "cm-must-have-gk-audit", n, 3*time.Minute)
			checkViolations(t, got, n)
			subLog := e.Kubelet.Logs(cluster.SubscriberNS, "sub-", "go-sub")
			if version >= "v3.20" {
				for _, m := range []string{violation.AuditStarted, violation.AuditCompleted} {
					if !strings.Contains(subLog, `"message":"`+m+`"`) {
						t.Errorf("the subscriber did not show %q; its output:\n%s", m, subLog)
					}
				}
				if strings.Contains(subLog, "dropping event") {
					t.Errorf("the subscriber dropped events:\n%s", subLog)
				}
			}
			t.Logf("%d violations received from Gatekeeper %s's audit", len(got), version)

			// helm test: the chart's test pod (pubsub-send through its own
			// injected daprd) runs through the stand-in; its violation arrives.
			cfg, err := e.Helm(cluster.GatekeeperNS)
			if err != nil {
				t.Fatal(err)
			}
			rt := action.NewReleaseTesting(cfg)
			rt.Namespace, rt.Timeout = cluster.GatekeeperNS, 2*time.Minute
			tested, err := rt.Run("gatekeeper-pubsub")
			if err != nil {
				t.Fatalf("helm test: %v\nstand-in events:\n%s", err, e.Kubelet.Events())
			}
			for _, h := range tested.Hooks {
				if h.LastRun.Phase != release.HookPhaseSucceeded {
					t.Errorf("helm test hook %s: %s", h.Name, h.LastRun.Phase)
				}
			}
			waitFor(t, 30*time.Second, "the helm test's violation at the subscriber", func() bool {
				for _, v := range received(e.Kubelet.Logs(cluster.SubscriberNS, "sub-", "go-sub")) {
					if v.Name == violation.Example(time.Now()).Name {
						return true
					}
				}
				return false
			})
			if verbose {
				t.Logf("kubelet stand-in:\n%s\nsubscriber:\n%s\naudit:\n%s", e.Kubelet.Events(), subLog,
					tailLines(e.Kubelet.Logs(cluster.GatekeeperNS, "gatekeeper-audit-", "manager"), 30))
			}
		})
	}
}

// checkViolations checks that the violations are those of Gatekeeper's test
// constraint for the n ConfigMaps of applyPolicy, each object once per audit.
func checkViolations(t *testing.T, got []violation.Violation, n int) {
	t.Helper()
	objs := byResource(got)
	if len(objs) != n {
		t.Fatalf("distinct objects received = %d, want %d", len(objs), n)
	}
	for key, v := range objs {
		if !strings.HasPrefix(key, playground+"/violator-") {
			t.Errorf("violation for an unexpected object %s: %+v", key, v)
		}
		if v.Kind != "K8sRequiredLabels" || v.Name != "cm-must-have-gk-audit" || v.EnforcementAction != "deny" ||
			v.ResourceKind != "ConfigMap" || v.ResourceAPIVersion != "v1" || !strings.Contains(v.Message, "gatekeeper") {
			t.Errorf("violation %s fields: %+v", key, v)
		}
	}
	// Every audit publishes every violation again: per audit run (id), each
	// object exactly once.
	perRun := map[string]map[string]int{}
	for _, v := range got {
		if perRun[v.ID] == nil {
			perRun[v.ID] = map[string]int{}
		}
		perRun[v.ID][v.ResourceName]++
	}
	for id, m := range perRun {
		for name, c := range m {
			if c != 1 {
				t.Errorf("audit %s published %s %d times", id, name, c)
			}
		}
	}
}

func init() {
	if os.Getenv("CLUSTER_TEST_VERBOSE") != "" {
		verbose = true
	}
}

// verbose (CLUSTER_TEST_VERBOSE=1) logs the stand-in's events and the
// subscriber's output of passing tests too.
var verbose bool

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkSidecarBounds: the injector gave daprd the requests and limits of
// the chart's dapr.sidecar.resources (dapr.io/sidecar-* annotations).
func checkSidecarBounds(t *testing.T, p *corev1.Pod, d corev1.Container) {
	t.Helper()
	for _, c := range []struct {
		list corev1.ResourceList
		name corev1.ResourceName
		want string
	}{
		{d.Resources.Requests, corev1.ResourceCPU, "50m"},
		{d.Resources.Requests, corev1.ResourceMemory, "128Mi"},
		{d.Resources.Limits, corev1.ResourceMemory, "512Mi"},
	} {
		q, ok := c.list[c.name]
		if !ok || q.Cmp(resource.MustParse(c.want)) != 0 {
			t.Errorf("pod %s/%s: injected daprd %s = %v (set %v), want %s from the dapr.io/sidecar-* annotations %v",
				p.Namespace, p.Name, c.name, q.String(), ok, c.want, p.Annotations)
		}
	}
}
