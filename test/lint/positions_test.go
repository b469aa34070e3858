package lint_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// TestChartFindingsPointAtTemplateSource lints Gatekeeper's own chart
// (v3.17.0, from its Go module) as it would sit in a repository
// (charts/gatekeeper), with pubsub on but no connection config: the
// findings name the template file on disk and the line of the template
// source that wrote the field, for container args and pod annotations.
func TestChartFindingsPointAtTemplateSource(t *testing.T) {
	ctx := context.Background()
	mod, err := cluster.ModuleDir(ctx, "github.com/open-policy-agent/gatekeeper/v3", "v3.17.0")
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	chart := filepath.Join(repo, "charts", "gatekeeper")
	if err := os.CopyFS(chart, os.DirFS(filepath.Join(mod, "charts", "gatekeeper"))); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(chart, "templates", "gatekeeper-audit-deployment.yaml")
	src, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(substr string) int {
		for i, l := range strings.Split(string(src), "\n") {
			if strings.Contains(l, substr) {
				return i + 1
			}
		}
		t.Fatalf("%q not in %s", substr, tmpl)
		return 0
	}
	res, err := lint.Run(ctx, lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system",
		Set: []string{"audit.enablePubsub=true", `auditPodAnnotations.dapr\.io/enabled=true`}, SetString: []string{`auditPodAnnotations.dapr\.io/app-id=audit`}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		// the --audit-connection arg names no connection config
		"connection-not-found": lineOf("- --audit-connection="),
		// the annotations (written by toYaml) lack the seccomp profile
		"audit-sidecar-seccomp": lineOf("annotations:"),
	}
	for _, f := range res.Findings {
		line, ok := want[f.Rule]
		if !ok {
			continue
		}
		delete(want, f.Rule)
		if f.File != tmpl {
			t.Errorf("%s: file %s, want the template %s", f.Rule, f.File, tmpl)
		}
		// The annotations key or the toYaml line that wrote them.
		if f.Line != line && !(f.Rule == "audit-sidecar-seccomp" && f.Line > line && f.Line <= line+6) {
			t.Errorf("%s: line %d, want %d (template source line)", f.Rule, f.Line, line)
		}
	}
	for rule := range want {
		t.Errorf("no %s finding; findings: %+v", rule, res.Findings)
	}
}
