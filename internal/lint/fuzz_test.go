package lint

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// FuzzLoadYAML feeds arbitrary input through the stdin loader and every
// rule: an error is fine, a panic is not.
func FuzzLoadYAML(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: dapr, config: '{\"component\": \"pubsub\"}'}\n",
		"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub}\nspec: {type: pubsub.redis, version: v1, metadata: [{name: redisHost, value: 1}, {value: x, secretKeyRef: {name: a}}]}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gatekeeper-audit}\nspec: {template: {metadata: {annotations: {dapr.io/enabled: 'true'}}, spec: {containers: [{name: manager, image: 'x:v3.19.0', args: [--operation=audit, --enable-pub-sub=maybe, --audit-channel]}]}}}\n",
		"---\n- a\n---\nkind: List\napiVersion: v1\nitems: [{kind: Pod, spec: {containers: [{}]}}]\n",
		"a: [\n",
		"apiVersion: connection.gatekeeper.sh/v1alpha1\nkind: Connection\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\nspec: {driver: dapr, config: [1]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Run(context.Background(), Options{Paths: []string{StdinPath}, Stdin: bytes.NewReader(data)})
		if errors.Is(err, ErrRulePanicked) {
			t.Fatal(err) // the input may be bad; a rule must still not panic
		}
		if err == nil && res == nil {
			t.Fatal("nil result without error")
		}
	})
}

// FuzzConnectionConfig lints a connection ConfigMap whose data.config is
// arbitrary, next to an audit that uses it.
func FuzzConnectionConfig(f *testing.F) {
	for _, s := range []string{`{"component": "pubsub"}`, `{"component": "pubsub",}`, `{`, `[]`, `null`, `{"component": 1}`, "{\n\"component\": \"a\"\n}\n{}", ""} {
		f.Add("dapr", s)
	}
	f.Add("Dapr", `{"component": "pubsub"}`)
	f.Fuzz(func(t *testing.T, provider, config string) {
		cm := map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "audit-connection", "namespace": "gatekeeper-system"},
			"data":     map[string]any{"provider": provider, "config": config},
		}
		objs := []render.Object{{Source: "fuzz.yaml", Line: 1, Obj: cm, Raw: []byte("data:\n  config: |\n    x\n")}}
		res, err := Check(context.Background(), Options{}, objs)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			if rules.Get(f.Rule) == nil {
				t.Fatalf("unknown rule %q", f.Rule)
			}
		}
	})
}

// TestRulePanicIsAnError: a panicking rule comes out as ErrRulePanicked,
// which the fuzz targets fail on (it would otherwise pass as an input error).
func TestRulePanicIsAnError(t *testing.T) {
	r := &rules.Rule{ID: "panics", Check: func(*model.Setup, *rules.Reporter) { panic("boom") }}
	_, err := runRule(r, model.NewSetup(model.DefaultOptions(), nil))
	if !errors.Is(err, ErrRulePanicked) || !strings.Contains(err.Error(), "panics: boom") {
		t.Fatalf("runRule of a panicking rule: %v", err)
	}
}
