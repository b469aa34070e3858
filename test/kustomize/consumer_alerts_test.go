package kustomize_test

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestConsumerAlertsComponent: in overlays/consumer-alerts the consumer
// reads the routes the ConfigMap holds (alerts.Parse, the binary's own
// code), every file a route names is in the projected volume mounted where
// --alerts-config points, and the pod's checksum/alerts-config is the
// SHA-256 of alerts.yaml, which kustomize cannot compute: whoever edits
// the routes sets it.
func TestConsumerAlertsComponent(t *testing.T) {
	objs := buildOverlay(t, "consumer-alerts")
	var cm, d render.Object
	for _, o := range objs {
		switch {
		case o.Kind() == "ConfigMap" && o.Namespace() == "gatekeeper-violations" && o.Name() == "violations-alerts":
			cm = o
		case o.Kind() == "Deployment" && o.Namespace() == "gatekeeper-violations" && o.Name() == "violations":
			d = o
		}
	}
	if cm.Obj == nil || d.Obj == nil {
		t.Fatal("no ConfigMap violations-alerts or Deployment violations in gatekeeper-violations")
	}
	data, _ := render.Lookup(cm.Obj, "data", "alerts.yaml")
	file, _ := data.(string)
	cfg, err := alerts.Parse("kustomize/components/consumer-alerts/configmap.yaml data.alerts.yaml", []byte(file))
	if err != nil {
		t.Fatalf("the consumer refuses the routes: %v", err)
	}
	sum := sha256.Sum256([]byte(file))
	if got, want := lookupMap(t, d, "spec", "template", "metadata", "annotations")["checksum/alerts-config"], hex.EncodeToString(sum[:]); got != want {
		t.Errorf("Deployment violations: pod annotation checksum/alerts-config is %v, but the SHA-256 of the ConfigMap's alerts.yaml is %s; set it in kustomize/components/consumer-alerts/kustomization.yaml", got, want)
	}
	c := lookupSlice(t, d, "spec", "template", "spec", "containers")[0].(map[string]any)
	var config string
	for _, a := range c["args"].([]any) {
		if v, ok := strings.CutPrefix(a.(string), "--alerts-config="); ok {
			config = v
		}
	}
	if config == "" {
		t.Fatalf("consumer args %v lack --alerts-config", c["args"])
	}
	dir := path.Dir(config)
	var volume string
	for _, m := range c["volumeMounts"].([]any) {
		m := m.(map[string]any)
		if m["mountPath"] == dir {
			volume, _ = m["name"].(string)
			if m["readOnly"] != true {
				t.Errorf("mount %v is not read-only", m)
			}
		}
	}
	if volume == "" {
		t.Fatalf("no volume mounted at %s, the directory of --alerts-config", dir)
	}
	// The files of the projected volume: path -> "kind name/key".
	files := map[string]string{}
	for _, v := range lookupSlice(t, d, "spec", "template", "spec", "volumes") {
		v := v.(map[string]any)
		if v["name"] != volume {
			continue
		}
		sources, _ := render.Lookup(v, "projected", "sources")
		list, _ := sources.([]any)
		for _, s := range list {
			for kind, src := range s.(map[string]any) {
				src := src.(map[string]any)
				for _, it := range src["items"].([]any) {
					it := it.(map[string]any)
					files[it["path"].(string)] = kind + " " + src["name"].(string) + "/" + it["key"].(string)
				}
			}
		}
	}
	if got, want := files[path.Base(config)], "configMap violations-alerts/alerts.yaml"; got != want {
		t.Errorf("%s comes from %q, want %s", config, got, want)
	}
	var secrets []string
	for _, r := range cfg.Routes {
		for _, e := range []*alerts.Endpoint{r.Webhook, r.Slack} {
			if e == nil {
				continue
			}
			for _, f := range []string{e.URLFile, e.TokenFile} {
				if f == "" {
					continue
				}
				// Relative to the routes file, at the volume's root.
				src := files[f]
				if path.IsAbs(f) || !strings.HasPrefix(src, "secret ") {
					t.Errorf("route %s reads %s, which no Secret of volume %q provides", r.Name, f, volume)
				}
				secrets = append(secrets, src)
			}
		}
	}
	want := []string{"secret alert-webhooks/security-url", "secret alert-webhooks/security-token", "secret alert-slack/url"}
	if !slices.Equal(secrets, want) {
		t.Errorf("the routes read %v, want %v", secrets, want)
	}
	if len(files) != len(secrets)+1 {
		t.Errorf("volume %q holds %v: files no route reads", volume, files)
	}
}
