package cluster_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
)

// TestChartNextToInstalledGatekeeper: Gatekeeper's own chart installed as
// users have it (its audit on), then our chart. With audit.deploy=true, and
// with a gatekeeperVersion other than the running audit's, helm install
// fails at render (Helm's lookup of Deployment gatekeeper-audit), before
// any object or release record exists, with a message that says what to
// set. With the defaults (audit.deploy=false) it installs.
func TestChartNextToInstalledGatekeeper(t *testing.T) {
	const version = "v3.17.0"
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	ctx := context.Background()
	if err := e.PrepareNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InstallGatekeeper(ctx, version, map[string]any{"disableAudit": false}); err != nil {
		t.Fatal(err)
	}
	chart := repoPath(t, "charts", "gatekeeper-pubsub")
	nothingCreated := func(t *testing.T) {
		t.Helper()
		dyn, err := dynamic.NewForConfig(e.Kube.Config)
		if err != nil {
			t.Fatal(err)
		}
		comps := dyn.Resource(schema.GroupVersionResource{Group: "dapr.io", Version: "v1alpha1", Resource: "components"})
		if _, err := comps.Namespace(cluster.GatekeeperNS).Get(ctx, "pubsub", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Component %s/pubsub after the failed install: err=%v, want NotFound", cluster.GatekeeperNS, err)
		}
		secrets, err := e.Kube.Client.CoreV1().Secrets(cluster.GatekeeperNS).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=gatekeeper-pubsub"})
		if err != nil || len(secrets.Items) != 0 {
			t.Errorf("Helm release records of gatekeeper-pubsub after the failed install: %v (err %v), want none", len(secrets.Items), err)
		}
		d, err := e.Kube.Client.AppsV1().Deployments(cluster.GatekeeperNS).Get(ctx, "gatekeeper-audit", metav1.GetOptions{})
		if err != nil || d.Annotations["meta.helm.sh/release-name"] != "gatekeeper" {
			t.Errorf("Deployment %s/gatekeeper-audit after the failed install: err=%v, owner %q, want Gatekeeper's release", cluster.GatekeeperNS, err, d.Annotations["meta.helm.sh/release-name"])
		}
	}
	for _, tc := range []struct {
		name  string
		audit map[string]any
		gk    string // gatekeeperVersion
		want  []string
	}{
		{"audit.deploy=true", map[string]any{"enablePubsub": true, "deploy": true}, version,
			[]string{"audit.deploy=true: Deployment gatekeeper-system/gatekeeper-audit already exists", `Helm release "gatekeeper" in gatekeeper-system`, "Set audit.deploy=false"}},
		{"another gatekeeperVersion", map[string]any{"enablePubsub": true}, "v3.18.3",
			[]string{"gatekeeperVersion is v3.18.3", "Deployment gatekeeper-system/gatekeeper-audit runs openpolicyagent/gatekeeper:v3.17.0", "set gatekeeperVersion=v3.17.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := chartValues(e, tc.gk)
			vals["audit"] = tc.audit
			_, err := e.HelmInstall(ctx, chart, "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true)
			if err == nil {
				t.Fatal("helm install succeeded beside Gatekeeper's own audit")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("helm install error does not say %q:\n%v", w, err)
				}
			}
			nothingCreated(t)
		})
	}
	vals := chartValues(e, version)
	vals["audit"] = map[string]any{"enablePubsub": true} // audit.deploy left at its default
	rel, err := e.HelmInstall(ctx, chart, "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true)
	if err != nil {
		t.Fatalf("helm install with audit.deploy left at its default, beside Gatekeeper's audit: %v", err)
	}
	if !strings.Contains(rel.Info.Notes, "audit.deploy=false: this release does not run the audit") {
		t.Errorf("NOTES of the default install do not print the values for Gatekeeper's chart:\n%s", rel.Info.Notes)
	}
}
