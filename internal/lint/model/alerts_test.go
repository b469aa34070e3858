package model

import (
	"reflect"
	"testing"
)

// TestFileSource: what provides a file in a container, through each kind
// of volume.
func TestFileSource(t *testing.T) {
	items := func(kv ...string) []any {
		var out []any
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, map[string]any{"key": kv[i], "path": kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name   string
		mount  map[string]any
		volume map[string]any
		file   string
		ok     bool
		want   FileSource // Mount not compared
	}{
		{"no mount", nil, nil, "/etc/a/alerts.yaml", false, FileSource{}},
		{"configMap without items", map[string]any{"mountPath": "/etc/a"}, map[string]any{"configMap": map[string]any{"name": "cm"}}, "/etc/a/alerts.yaml", true,
			FileSource{Kind: "configMap", InVolume: "alerts.yaml", From: "configMap", Name: "cm", Key: "alerts.yaml"}},
		{"configMap without items, a subdirectory", map[string]any{"mountPath": "/etc/a"}, map[string]any{"configMap": map[string]any{"name": "cm"}}, "/etc/a/x/alerts.yaml", true,
			FileSource{Kind: "configMap", InVolume: "x/alerts.yaml", Missing: true}},
		{"configMap item", map[string]any{"mountPath": "/etc/a"}, map[string]any{"configMap": map[string]any{"name": "cm", "items": items("routes", "r/alerts.yaml")}}, "/etc/a/r/alerts.yaml", true,
			FileSource{Kind: "configMap", InVolume: "r/alerts.yaml", From: "configMap", Name: "cm", Key: "routes"}},
		{"configMap items elsewhere", map[string]any{"mountPath": "/etc/a"}, map[string]any{"configMap": map[string]any{"name": "cm", "items": items("routes", "other.yaml")}}, "/etc/a/alerts.yaml", true,
			FileSource{Kind: "configMap", InVolume: "alerts.yaml", Missing: true}},
		{"secret volume", map[string]any{"mountPath": "/etc/s"}, map[string]any{"secret": map[string]any{"secretName": "sec"}}, "/etc/s/url", true,
			FileSource{Kind: "secret", InVolume: "url", From: "secret", Name: "sec", Key: "url"}},
		{"projected, second source", map[string]any{"mountPath": "/etc/a"}, map[string]any{"projected": map[string]any{"sources": []any{
			map[string]any{"configMap": map[string]any{"name": "cm", "items": items("alerts.yaml", "alerts.yaml")}},
			map[string]any{"secret": map[string]any{"name": "sec", "items": items("u", "chat/url")}},
		}}}, "/etc/a/chat/url", true, FileSource{Kind: "projected", InVolume: "chat/url", From: "secret", Name: "sec", Key: "u"}},
		{"subPath", map[string]any{"mountPath": "/alerts.yaml", "subPath": "a/alerts.yaml"}, map[string]any{"configMap": map[string]any{"name": "cm", "items": items("k", "a/alerts.yaml")}}, "/alerts.yaml", true,
			FileSource{Kind: "configMap", InVolume: "a/alerts.yaml", From: "configMap", Name: "cm", Key: "k"}},
		{"emptyDir", map[string]any{"mountPath": "/etc"}, map[string]any{"emptyDir": map[string]any{}}, "/etc/a/alerts.yaml", true,
			FileSource{Kind: "emptyDir", InVolume: "a/alerts.yaml"}},
		{"volume not in the pod", map[string]any{"mountPath": "/etc"}, nil, "/etc/alerts.yaml", true,
			FileSource{InVolume: "alerts.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := map[string]any{}
			c := map[string]any{"name": "c", "image": image}
			if tt.mount != nil {
				tt.mount["name"] = "v"
				c["volumeMounts"] = []any{tt.mount}
			}
			if tt.volume != nil {
				tt.volume["name"] = "v"
				spec["volumes"] = []any{tt.volume}
			}
			spec["containers"] = []any{c}
			w := &Workload{Template: P("spec", "template"), Spec: spec}
			got, ok := w.FileSource(0, tt.file)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (got.Mount == nil || got.Mount.Name != "v") {
				t.Errorf("mount %+v", got.Mount)
			}
			got.Mount = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestParseAlertRoutes: the routes, their sinks and where a url is
// written in the text.
func TestParseAlertRoutes(t *testing.T) {
	tests := []struct {
		name string
		text string
		ok   bool
		want []AlertRoute
	}{
		{"block style", "routes:\n  - name: chat\n    slack:\n      url: https://h/x\n  - name: hook\n    webhook: {urlEnv: HOOK}\n", true, []AlertRoute{
			{Index: 0, Name: "chat", Sink: "slack", URL: &AlertScalar{Value: "https://h/x", Line: 4, Column: 12}},
			{Index: 1, Name: "hook", Sink: "webhook", URLEnv: "HOOK"},
		}},
		{"JSON", `{"routes": [{"webhook": {"url": "https://h/x?t=1"}}]}`, true, []AlertRoute{
			{Index: 0, Sink: "webhook", URL: &AlertScalar{Value: "https://h/x?t=1", Line: 1, Column: 33}},
		}},
		{"entry not a map", "routes:\n  - x\n  - name: a\n", true, []AlertRoute{{Index: 1, Name: "a"}}},
		{"empty url", "routes:\n  - {name: a, slack: {url: ''}}\n", true, []AlertRoute{{Index: 0, Name: "a", Sink: "slack"}}},
		{"no routes", "groups: []\n", false, nil},
		{"routes not a list", "routes: {a: b}\n", false, nil},
		{"not YAML", "routes: [\n", false, nil},
		{"empty", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseAlertRoutes(tt.text)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
