package cluster_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
)

// TestHelmInstallAuditDelivers is the documented setup for real, with
// Gatekeeper v3.17.0 (the ConfigMap form): Gatekeeper's own chart (its audit
// off, as our NOTES say), then our chart installed with Helm's
// action.Install into namespaces labelled PodSecurity restricted. Every
// object is accepted, the pods that kube-controller-manager creates get the
// real daprd from the real injector and pass PodSecurity restricted, and
// Gatekeeper's own audit (run from the pod spec by the kubelet stand-in)
// publishes exactly the violations its constraint counts, which the
// subscriber receives field by field.
func TestHelmInstallAuditDelivers(t *testing.T) {
	const version, n = "v3.17.0", 12
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
	sub := podOf(t, e, cluster.SubscriberNS, "sub")
	sidecar(t, sub)

	applyPolicy(t, e, version, n)
	got := waitDelivered(t, e, "cm-must-have-gk-audit", n, 3*time.Minute)
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
	// Gatekeeper publishes []byte with no content type: the subscriber got
	// JSON inside a string (datacontenttype text/plain), which it decodes.
	t.Logf("%d violations received from Gatekeeper %s's audit (%d objects)", len(got), version, len(objs))
	if verbose {
		t.Logf("kubelet stand-in:\n%s\nsubscriber:\n%s\naudit:\n%s", e.Kubelet.Events(), e.Kubelet.Logs(cluster.SubscriberNS, "sub-", "go-sub"),
			tailLines(e.Kubelet.Logs(cluster.GatekeeperNS, "gatekeeper-audit-", "manager"), 30))
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
