package release_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// TestOneVersion: the chart's version, the Helm plugin's version, the
// Makefile's VERSION (the images' tag) and what Go embeds all come from
// internal/version/VERSION.
func TestOneVersion(t *testing.T) {
	root := repoRoot(t)
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`).MatchString(version.Version) {
		t.Fatalf("VERSION %q is not a semantic version without a leading v", version.Version)
	}
	chart, err := chartutil.LoadChartfile(filepath.Join(root, "charts", "gatekeeper-pubsub", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var plugin struct{ Version string }
	readYAML(t, filepath.Join(root, "plugin.yaml"), &plugin)
	makeOut, code := runCmd(t, root, withEnv("MAKEFLAGS="), "make", "-s", "--no-print-directory", "version")
	if code != 0 {
		t.Fatalf("make version: exit %d\n%s", code, makeOut)
	}
	for _, c := range []struct{ what, got string }{
		{"charts/gatekeeper-pubsub/Chart.yaml version", chart.Version},
		{"plugin.yaml version", plugin.Version},
		{"make version (the Makefile's VERSION, the images' tag)", strings.TrimSpace(makeOut)},
	} {
		if c.got != version.Version {
			t.Errorf("%s = %q, want %q (internal/version/VERSION)", c.what, c.got, version.Version)
		}
	}
}

// TestAppVersionIsDefaultGatekeeper: the chart's appVersion stays the
// Gatekeeper release the chart deploys by default, not the project's
// version.
func TestAppVersionIsDefaultGatekeeper(t *testing.T) {
	root := repoRoot(t)
	chart, err := chartutil.LoadChartfile(filepath.Join(root, "charts", "gatekeeper-pubsub", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		GatekeeperVersion string `json:"gatekeeperVersion"`
	}
	readYAML(t, filepath.Join(root, "charts", "gatekeeper-pubsub", "values.yaml"), &values)
	if chart.AppVersion != values.GatekeeperVersion {
		t.Errorf("Chart.yaml appVersion %q, want the default gatekeeperVersion %q", chart.AppVersion, values.GatekeeperVersion)
	}
}

// TestVersionFacts: what `pubsub-lint version` reports about Dapr and
// Gatekeeper is what the schemas, the tools and the chart are built on.
func TestVersionFacts(t *testing.T) {
	info, err := schemas.Pubsub("pubsub.redis")
	if err != nil {
		t.Fatal(err)
	}
	maxTested := ""
	for _, v := range cluster.GatekeeperVersions {
		if maxTested == "" || semverLess(maxTested, v) {
			maxTested = v
		}
	}
	for _, c := range []struct {
		what      string
		ok        bool
		got, want string
	}{
		{"Dapr version vs internal/cluster (daprd, injector, CRDs)", version.Dapr == cluster.DaprVersion, version.Dapr, cluster.DaprVersion},
		{"Dapr version vs the schemas' source", strings.Contains(info.Source, "v"+version.Dapr+" "), info.Source, "dapr/components-contrib v" + version.Dapr},
		{"newest Gatekeeper vs the newest the tests run", version.GatekeeperMax == maxTested, version.GatekeeperMax, maxTested},
	} {
		if !c.ok {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	// The oldest Gatekeeper the chart accepts with publishing on is
	// GatekeeperMin: it renders, the patch release before it does not.
	for _, c := range []struct {
		gatekeeper string
		renders    bool
	}{
		{version.GatekeeperMin, true},
		{"v3.12.9", false},
		{version.GatekeeperMax, true},
	} {
		_, err := renderChartDir(t, filepath.Join(repoRoot(t), "charts", "gatekeeper-pubsub"), map[string]any{
			"gatekeeperVersion": c.gatekeeper, "audit": map[string]any{"enablePubsub": true, "deploy": true},
		})
		if (err == nil) != c.renders {
			t.Errorf("gatekeeperVersion %s with pubsub: render error %v, want rendering %v", c.gatekeeper, err, c.renders)
		}
	}
}

func semverLess(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) < len(pb[i])
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// renderChartDir renders a chart directory as `helm template` does.
func renderChartDir(t *testing.T, dir string, vals map[string]any) (string, error) {
	t.Helper()
	c, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := templateInstall(t).Run(c, vals)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		b.WriteString("\n---\n" + h.Manifest + "\n")
	}
	return b.String(), nil
}

// kubeVersion is the API server of internal/cluster (kube-apiserver
// v1.37.2), what charts are rendered for.
const kubeVersion = "v1.37.2"

// templateInstall is action.Install as `helm template` makes it:
// client-only, a dry run, for kubeVersion.
func templateInstall(t *testing.T) *action.Install {
	t.Helper()
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.DryRun, inst.DryRunOption, inst.ClientOnly, inst.Replace = true, "true", true, true
	inst.ReleaseName, inst.Namespace, inst.KubeVersion = "gatekeeper-pubsub", cluster.GatekeeperNS, kv
	return inst
}
