package lint_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"sigs.k8s.io/yaml"
)

// TestForwarderDefaults: what the linter assumes of pubsub-forward is what
// it is: its flags' defaults and the name of its image.
func TestForwarderDefaults(t *testing.T) {
	if c := forward.DefaultConfig(); c.Pubsub != model.DefaultForwarderPubsub {
		t.Errorf("the linter assumes --pubsub %q, pubsub-forward uses %q", model.DefaultForwarderPubsub, c.Pubsub)
	}
	if !slices.ContainsFunc(release.Commands, func(c release.Command) bool {
		return c.Name == model.ForwarderName && c.Package == "./cmd/"+model.ForwarderName
	}) {
		t.Errorf("no release image %s built from ./cmd/%s, which the linter recognises the forwarder by", model.ForwarderName, model.ForwarderName)
	}
}

// TestGatekeeperChartWithForwarder lints Gatekeeper's own v3.23.1 chart
// with docs/gatekeeper-chart-disk-values.yaml together with the Component
// our chart renders for it (audit.deploy=false, audit.exportBackend=disk):
// clean, the forwarder's Dapr side checked too; values that make the audit
// write elsewhere than the forwarder reads are caught.
func TestGatekeeperChartWithForwarder(t *testing.T) {
	dir, _ := moduleDir(t, "github.com/open-policy-agent/gatekeeper/v3", "v3.23.1")
	gkChart := filepath.Join(dir, "charts", "gatekeeper")
	values, err := filepath.Abs(filepath.Join("..", "..", "docs", "gatekeeper-chart-disk-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := render.Chart(context.Background(), filepath.Join("..", "..", "charts", "gatekeeper-pubsub"), render.ChartOptions{
		ReleaseName: "gatekeeper-pubsub", Namespace: "gatekeeper-system",
		Set:        []string{"audit.enablePubsub=true", "audit.deploy=false", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk"},
		ValueFiles: []string{redisTLSValues},
	})
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, o := range ours {
		b, err := yaml.Marshal(o.Obj)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	component := filepath.Join(t.TempDir(), "gatekeeper-pubsub.yaml")
	if err := os.WriteFile(component, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  []string
		want []string // rules
	}{
		{"as documented", nil, nil},
		{"another channel for the audit", []string{"audit.channel=violations"}, []string{"forwarder-topic-mismatch"}},
		{"another path for the driver", []string{"audit.exportConnection.path=/tmp/violations/runs"}, []string{"forwarder-path-mismatch"}},
		{"the driver keeps one run", []string{"audit.exportConnection.maxAuditResults=1"}, []string{"forwarder-retention-short"}},
		{"the volume mounted elsewhere in the manager", []string{"audit.exportVolumeMount.path=/var/violations"}, []string{"forwarder-volume-not-shared"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := lint.Run(context.Background(), lint.Options{Paths: []string{gkChart, component}, Namespace: "gatekeeper-system",
				ValueFiles: []string{values}, Set: tc.set})
			if err != nil {
				t.Fatal(err)
			}
			if res.Objects == 0 {
				t.Fatal("linted no objects")
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Rule)
				if tc.want == nil {
					t.Errorf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
		})
	}
}
