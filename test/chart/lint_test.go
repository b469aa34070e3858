package chart_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/valuesdoc"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestHelmLint runs the Helm SDK's lint (what `helm lint` runs) for every
// value set; only INFO messages (such as a missing icon) are allowed.
func TestHelmLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(render.DefaultKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			opts := values.Options{ValueFiles: vs.files, Values: vs.values(), StringValues: vs.setString}
			vals, err := opts.MergeValues(getter.Providers{})
			if err != nil {
				t.Fatal(err)
			}
			res := lint.AllWithKubeVersion(chartDir, vals, namespace, kv)
			for _, m := range res.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m.Error())
				}
			}
		})
	}
}

// TestReadme checks that the chart README's values table is generated from
// the current values.yaml; -update regenerates it.
func TestReadme(t *testing.T) {
	readmePath := filepath.Join(chartDir, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := valuesdoc.UpdateReadme(readme, vals)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(readmePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(got) != string(readme) {
		t.Errorf("%s is not current; run go test ./test/chart -run TestReadme -update\n%s", readmePath, firstDiff(string(readme), string(got)))
	}
}

// TestSchemaCoversValues: every documented value of values.yaml is a key
// that values.schema.json describes (so the schema and the README agree).
func TestSchemaCoversValues(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := valuesdoc.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	defs, _ := schema["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			d, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			return d
		}
		return s
	}
	for _, v := range vals {
		cur := schema
		for _, part := range strings.Split(v.Key, ".") {
			props, _ := resolve(cur)["properties"].(map[string]any)
			next, ok := props[part].(map[string]any)
			if !ok {
				t.Errorf("values.yaml documents %s (line %d), but values.schema.json has no %q there", v.Key, v.Line, part)
				break
			}
			cur = next
		}
	}
}
