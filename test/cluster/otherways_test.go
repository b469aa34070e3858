package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestGatekeeperChartWithOurNotes: our chart with audit.deploy=false, then
// Gatekeeper's own chart with exactly the values our NOTES print for its
// version: Gatekeeper's own audit Deployment delivers the violations.
// v3.17.0's chart reads audit.enablePubsub (--enable-pub-sub); v3.23.1's
// reads enableViolationExport (--enable-violation-export) and our chart
// renders the Connection.
func TestGatekeeperChartWithOurNotes(t *testing.T) {
	for _, version := range cluster.GatekeeperVersions {
		t.Run(version, func(t *testing.T) {
			const n = 7
			e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
			installBesideGatekeeperChart(t, e, version, nil)
			rolledOutAuditPod(t, e)
			applyPolicy(t, e, version, n)
			checkViolations(t, waitDelivered(t, e, "cm-must-have-gk-audit", n, 3*time.Minute), n)
		})
	}
}

// installBesideGatekeeperChart is a user's path: the namespaces prepared,
// Gatekeeper's own chart at version installed (its audit on, not
// publishing), our chart installed with audit.deploy left at its default
// (false), then Gatekeeper's release upgraded with the values our NOTES
// print (changed by slip, if given; auditing every 5 s). It returns both
// charts' values.
func installBesideGatekeeperChart(t *testing.T, e *cluster.Env, version string, slip func(map[string]any)) (ours, gatekeeper map[string]any) {
	t.Helper()
	ctx := context.Background()
	if err := e.PrepareNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InstallGatekeeper(ctx, version, map[string]any{"disableAudit": false, "auditInterval": 5}); err != nil {
		t.Fatal(err)
	}
	ours = chartValues(e, version)
	ours["audit"] = map[string]any{"enablePubsub": true}
	rel, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, ours, true)
	if err != nil {
		t.Fatal(err)
	}
	gatekeeper = notesValues(t, rel.Info.Notes)
	t.Logf("values from our NOTES for Gatekeeper's chart: %v", gatekeeper)
	if slip != nil {
		slip(gatekeeper)
	}
	gatekeeper["disableAudit"] = false
	gatekeeper["auditInterval"] = 5 // Gatekeeper's default is 60 s: not what these tests are about
	if _, err := e.UpgradeGatekeeper(ctx, version, gatekeeper); err != nil {
		t.Fatal(err)
	}
	return ours, gatekeeper
}

// notesValues reads the values block our NOTES print for Gatekeeper's chart
// (between <<'VALUES' and VALUES).
func notesValues(t *testing.T, notes string) map[string]any {
	t.Helper()
	_, rest, ok := strings.Cut(notes, "<<'VALUES'\n")
	if !ok {
		t.Fatalf("NOTES have no values block:\n%s", notes)
	}
	block, _, ok := strings.Cut(rest, "\n  VALUES")
	if !ok {
		t.Fatalf("NOTES values block not closed:\n%s", notes)
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	out := map[string]any{}
	if err := yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &out); err != nil {
		t.Fatalf("NOTES values block: %v\n%s", err, block)
	}
	return out
}

// TestKustomizeOnGatekeeperManifest: Gatekeeper's released manifest
// (deploy/gatekeeper.yaml of v3.17.0) with our audit-pubsub and subscriber
// components, built in-process by kustomize and applied server-side,
// delivers the violations as the chart does. The kustomization says what it
// changes for this machine: no Gatekeeper webhook pods or webhook
// configurations (nothing here serves them), and the Component's Redis.
func TestKustomizeOnGatekeeperManifest(t *testing.T) {
	const version, n = "v3.17.0", 9
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	ctx := context.Background()
	if err := e.PrepareNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("gatekeeper.yaml", string(readGatekeeperFile(t, version, "deploy/gatekeeper.yaml")))
	write("pubsub-settings.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: gatekeeper-pubsub-settings
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  connection: audit-connection
  channel: audit-channel
`)
	write("kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gatekeeper.yaml
  - pubsub-settings.yaml
components:
  - `+rel(t, dir, repoPath(t, "kustomize", "components", "audit-pubsub"))+`
  - `+rel(t, dir, repoPath(t, "kustomize", "components", "subscriber"))+`
patches:
  # This machine: no Gatekeeper webhook pods, no webhook configurations.
  - target: {kind: Deployment, name: gatekeeper-controller-manager}
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 0
  - target: {kind: ValidatingWebhookConfiguration}
    patch: |-
      $patch: delete
      apiVersion: admissionregistration.k8s.io/v1
      kind: ValidatingWebhookConfiguration
      metadata:
        name: gatekeeper-validating-webhook-configuration
  - target: {kind: MutatingWebhookConfiguration}
    patch: |-
      $patch: delete
      apiVersion: admissionregistration.k8s.io/v1
      kind: MutatingWebhookConfiguration
      metadata:
        name: gatekeeper-mutating-webhook-configuration
  # Audit every 5 s (Gatekeeper's default is 60 s; Go's flag takes the last).
  - target: {kind: Deployment, name: gatekeeper-audit}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --audit-interval=5
  # The test's Redis.
  - target: {kind: Component, name: pubsub}
    patch: |-
      - op: replace
        path: /spec/metadata/0/value
        value: `+e.Redis.Addr+`
`)
	objs, err := render.Kustomize(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var manifest strings.Builder
	for _, o := range objs {
		manifest.WriteString("---\n")
		manifest.Write(o.Raw)
		manifest.WriteString("\n")
	}
	if err := e.Apply(ctx, []byte(manifest.String()), ""); err != nil {
		t.Fatal(err)
	}
	// Gatekeeper's webhook (not run here) fills its certificate Secret.
	if err := e.FillWebhookCert(ctx); err != nil {
		t.Fatal(err)
	}
	sidecar(t, podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit"))
	sidecar(t, podOf(t, e, cluster.SubscriberNS, "sub"))
	applyPolicy(t, e, version, n)
	checkViolations(t, waitDelivered(t, e, "cm-must-have-gk-audit", n, 3*time.Minute), n)
}

// rel is target relative to dir (kustomize takes no absolute roots).
func rel(t *testing.T, dir, target string) string {
	t.Helper()
	r, err := filepath.Rel(dir, target)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rolledOutAuditPod waits until the upgrade of Gatekeeper's release has
// rolled out: a pod of Deployment gatekeeper-audit with the daprd the
// injector adds for the NOTES' annotations (the pod from before the upgrade
// has none).
func rolledOutAuditPod(t *testing.T, e *cluster.Env) {
	t.Helper()
	waitFor(t, 90*time.Second, "a gatekeeper-audit pod with daprd after the upgrade with our NOTES' values", func() bool {
		pods, err := e.Kube.Client.CoreV1().Pods(cluster.GatekeeperNS).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; strings.HasPrefix(p.Name, "gatekeeper-audit-") && slices.Contains(containerNames(p), "daprd") {
				return true
			}
		}
		return false
	})
}
