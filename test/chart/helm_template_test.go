package chart_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
)

// TestMatchesHelmTemplate renders every value set with action.Install in
// client-only dry-run mode, as `helm template` does, and checks that
// internal/render produces the same text (manifests, then hooks including tests),
// the same NOTES and the same error.
func TestMatchesHelmTemplate(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(render.DefaultKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	sets := append([]valueSet{}, valueSets...)
	sets = append(sets, valueSet{name: "typo", set: []string{"audit.enablePubSub=true"}})
	for _, vs := range sets {
		t.Run(vs.name, func(t *testing.T) {
			inst := action.NewInstall(&action.Configuration{Log: func(string, ...interface{}) {}})
			inst.DryRun = true
			inst.DryRunOption = "true"
			inst.ClientOnly = true
			inst.Replace = true
			inst.ReleaseName = "gatekeeper-pubsub"
			inst.Namespace = namespace
			inst.KubeVersion = kv
			chrt, err := loader.Load(chartDir)
			if err != nil {
				t.Fatal(err)
			}
			opts := values.Options{ValueFiles: vs.files, Values: vs.values(), StringValues: vs.setString}
			vals, err := opts.MergeValues(getter.Providers{})
			if err != nil {
				t.Fatal(err)
			}
			rel, helmErr := inst.Run(chrt, vals)
			r, ourErr := render.RenderChart(t.Context(), chartDir, vs.options(true))
			if (helmErr == nil) != (ourErr == nil) {
				t.Fatalf("helm error %v, render error %v", helmErr, ourErr)
			}
			if helmErr != nil {
				if !strings.Contains(ourErr.Error(), strings.TrimSpace(helmErr.Error())) {
					t.Errorf("render error %q does not carry helm's %q", ourErr, helmErr)
				}
				return
			}
			var want strings.Builder
			want.WriteString(rel.Manifest)
			for _, h := range rel.Hooks {
				fmt.Fprintf(&want, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
			}
			if r.Manifest != want.String() {
				t.Errorf("internal/render differs from helm template:\n%s", firstDiff(want.String(), r.Manifest))
			}
			if r.Notes != rel.Info.Notes {
				t.Errorf("NOTES differ:\n%s", firstDiff(rel.Info.Notes, r.Notes))
			}
		})
	}
}
