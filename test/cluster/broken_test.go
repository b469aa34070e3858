package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"k8s.io/apimachinery/pkg/api/meta"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestBrokenConnectionNameFailsAlike: Gatekeeper's own chart given our
// NOTES' values with one slip (audit.connection "violations" while our
// chart's ConfigMap is audit-connection). It fails the same way for real and
// in the linter: Gatekeeper audits, logs that it has no connection and
// publishes nothing; pubsub-lint, on the two charts' rendered manifests,
// reports connection-not-found.
func TestBrokenConnectionNameFailsAlike(t *testing.T) {
	const version, n = "v3.17.0", 5
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	vals, gkValues := installBesideGatekeeperChart(t, e, version, func(v map[string]any) {
		v["audit"].(map[string]any)["connection"] = "violations" // the slip
	})
	ctx := context.Background()
	ours := repoPath(t, "charts", "gatekeeper-pubsub")
	rolledOutAuditPod(t, e)
	applyPolicy(t, e, version, n)

	// The audit finds the violations...
	waitFor(t, 2*time.Minute, "the constraint's totalViolations", func() bool {
		total, _ := totalViolations(ctx, e, "cm-must-have-gk-audit")
		return total == n
	})
	// ...and says it cannot publish them; nothing arrives.
	auditLog := func() string { return e.Kubelet.Logs(cluster.GatekeeperNS, "gatekeeper-audit-", "manager") }
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(auditLog(), "connection is not initialized, name: violations") {
		if time.Now().After(deadline) {
			t.Fatalf("Gatekeeper did not log the missing connection; its log ends:\n%s", tailLines(auditLog(), 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The subscriber is up with its sidecar, so a delivery would arrive.
	sidecar(t, podOf(t, e, cluster.SubscriberNS, "sub"))
	time.Sleep(3 * time.Second) // a delivery would have arrived by now
	if got := received(e.Kubelet.Logs(cluster.SubscriberNS, "sub-", "go-sub")); len(got) != 0 {
		t.Errorf("the subscriber received %d violations through a connection that does not exist", len(got))
	}

	// pubsub-lint on what both charts render, as a GitOps repository holds it.
	gkDir, err := cluster.ModuleDir(ctx, "github.com/open-policy-agent/gatekeeper/v3", version)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, c := range map[string]struct {
		chart string
		vals  map[string]any
	}{
		"gatekeeper.yaml":        {filepath.Join(gkDir, "charts", "gatekeeper"), mergedGatekeeperValues(gkValues)},
		"gatekeeper-pubsub.yaml": {ours, vals},
	} {
		valuesFile := filepath.Join(t.TempDir(), "values.yaml")
		b, _ := yaml.Marshal(c.vals)
		if err := os.WriteFile(valuesFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := render.RenderChart(ctx, c.chart, render.ChartOptions{ReleaseName: strings.TrimSuffix(name, ".yaml"), Namespace: cluster.GatekeeperNS, ValueFiles: []string{valuesFile}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(r.Manifest), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err := lint.Run(ctx, lint.Options{Paths: []string{dir}, Namespace: cluster.GatekeeperNS, Assume: lint.Assumptions{DaprDropAllCapabilities: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range res.Findings {
		found = append(found, string(f.Severity)+" "+f.Rule+": "+f.Message)
	}
	if !strings.Contains(strings.Join(found, "\n"), "error connection-not-found") {
		t.Errorf("pubsub-lint did not report connection-not-found as an error; findings:\n%s", strings.Join(found, "\n"))
	}
}

func mergedGatekeeperValues(v map[string]any) map[string]any {
	all := cluster.GatekeeperChartValues()
	cluster.MergeValues(all, v)
	return all
}

// TestAuditWithoutCertMountCrashLoops shows the chart bug that only real
// Gatekeeper revealed: an audit pod without Gatekeeper's webhook
// certificate at /certs (as our chart rendered it before) exits at start,
// since external data (on by default) needs tls.crt and tls.key there. The
// chart's output with that mount cut out by a post-renderer is installed;
// the stand-in gives the process only what the pod mounts, and Gatekeeper
// exits and is restarted, as in a real cluster.
func TestAuditWithoutCertMountCrashLoops(t *testing.T) {
	const version = "v3.17.0"
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	prepare(t, e, version, nil)
	vals := chartValues(e, version)
	vals["subscriber"] = map[string]any{"enabled": false}
	cut := func(in *bytes.Buffer) (*bytes.Buffer, error) {
		var out bytes.Buffer
		lines := strings.Split(in.String(), "\n")
		for i := 0; i < len(lines); i++ {
			l := lines[i]
			trim := strings.TrimSpace(l)
			// the volumeMount (3 lines) and the volume (4 lines)
			if trim == "- name: cert" && i+1 < len(lines) {
				next := strings.TrimSpace(lines[i+1])
				if next == "mountPath: /certs" {
					i += 2
					continue
				}
				if next == "secret:" {
					i += 3
					continue
				}
			}
			out.WriteString(l + "\n")
		}
		if strings.Contains(out.String(), "/certs") {
			return nil, fmt.Errorf("the cert mount is still there:\n%s", out.String())
		}
		return &out, nil
	}
	ctx := context.Background()
	if _, err := e.HelmInstallPostRendered(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true, cut); err != nil {
		t.Fatal(err)
	}
	sidecar(t, podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit"))
	waitFor(t, 60*time.Second, "Gatekeeper's exit for the missing certificate", func() bool {
		return strings.Contains(e.Kubelet.Logs(cluster.GatekeeperNS, "gatekeeper-audit-", "manager"), "unable to create client cert watcher") &&
			strings.Contains(e.Kubelet.Events(), "container manager exited with 1; restarting")
	})
}

// TestV323AuditWithoutGenerateCreatesNoConstraintCRD: from v3.18 only a
// Gatekeeper process with --operation=generate creates the constraint CRDs
// from ConstraintTemplates (our chart renders it for the audit). With it
// left out (audit.disableGenerateOperation) and no other Gatekeeper process,
// the template is accepted but its constraint kind never exists, so no
// constraint can be created and nothing is audited.
func TestV323AuditWithoutGenerateCreatesNoConstraintCRD(t *testing.T) {
	const version = "v3.23.1"
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	prepare(t, e, version, nil)
	vals := chartValues(e, version)
	vals["audit"] = map[string]any{"enablePubsub": true, "deploy": true, "disableGenerateOperation": true}
	vals["subscriber"] = map[string]any{"enabled": false}
	ctx := context.Background()
	if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true); err != nil {
		t.Fatal(err)
	}
	sidecar(t, podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit"))
	if err := e.Apply(ctx, readGatekeeperFile(t, version, "test/bats/tests/templates/k8srequiredlabels_template.yaml"), ""); err != nil {
		t.Fatal(err)
	}
	// Apply waits 30 s for the constraint's kind to be served.
	err := e.Apply(ctx, readGatekeeperFile(t, version, "test/bats/tests/constraints/all_cm_must_have_gatekeeper_audit.yaml"), "")
	if !meta.IsNoMatchError(err) || !strings.Contains(err.Error(), "K8sRequiredLabels") {
		t.Fatalf("applying the constraint: %v; want its kind K8sRequiredLabels never served (no match) without --operation=generate", err)
	}
	t.Logf("as expected: %v", err)
}
