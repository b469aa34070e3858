package chart_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

const (
	consumerNS  = "gatekeeper-violations"
	alertsDir   = "/etc/violations/alerts"
	alertsFlag  = "--alerts-config=" + alertsDir + "/alerts.yaml"
	alertsKey   = "alerts.yaml"
	checksumAnn = "checksum/alerts-config"
)

// wantRoute is a route as the consumer reads it from the rendered file,
// and the Secret keys the chart mounts for it (name/key, "" for none).
type wantRoute struct {
	name, sink  string
	url         string
	urlSecret   string
	tokenSecret string
	maxItems    int
	timeout     time.Duration
}

// renderValues renders the chart with a values file holding content and
// --set entries.
func renderValues(t *testing.T, content string, set ...string) ([]render.Object, error) {
	t.Helper()
	vs := valueSet{set: set}
	if content != "" {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		vs.files = []string{f}
	}
	return render.Chart(context.Background(), chartDir, vs.options(false))
}

// TestConsumerAlerts renders consumer.alerts.routes and checks that the
// consumer reads the ConfigMap's alerts.yaml (alerts.Parse, the binary's
// own code) as the routes the values describe, that every file it names
// is in the pod's projected volume from the right Secret key, and the
// flag, mount and checksum annotation.
func TestConsumerAlerts(t *testing.T) {
	testdataValues, err := os.ReadFile(filepath.Join("testdata", "values-consumer-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const enabled = "audit: {enablePubsub: true}\nconsumer:\n  enabled: true\n"
	tests := []struct {
		name   string
		values string
		set    []string
		cm     string // the ConfigMap's name
		want   []wantRoute
	}{
		{name: "no routes", values: enabled},
		{name: "empty routes", values: enabled + "  alerts: {routes: []}\n"},
		{name: "plain webhook", values: enabled + "  alerts:\n    routes:\n      - {name: hook, webhook: {url: 'https://hooks.example/v'}}\n", cm: "violations-alerts",
			want: []wantRoute{{name: "hook", sink: "webhook", url: "https://hooks.example/v", maxItems: 20, timeout: 10 * time.Second}}},
		{name: "plain webhook with a token", values: enabled + "  alerts:\n    routes:\n      - {name: hook, webhook: {url: 'http://receiver.monitoring:8080/v#x', tokenSecret: {name: s, key: t}}, maxItems: 1, timeout: 100ms}\n", cm: "violations-alerts",
			want: []wantRoute{{name: "hook", sink: "webhook", url: "http://receiver.monitoring:8080/v#x", tokenSecret: "s/t", maxItems: 1, timeout: 100 * time.Millisecond}}},
		{name: "webhook from a Secret", values: enabled + "  alerts:\n    routes:\n      - {name: hook, webhook: {urlSecret: {name: hooks, key: url.txt}}, maxItems: 100, timeout: 5m}\n", cm: "violations-alerts",
			want: []wantRoute{{name: "hook", sink: "webhook", urlSecret: "hooks/url.txt", maxItems: 100, timeout: 5 * time.Minute}}},
		{name: "slack", values: enabled + "  alerts:\n    routes:\n      - {name: chat, slack: {urlSecret: {name: slack, key: url}}, match: {namespaces: ['']}}\n", cm: "violations-alerts",
			want: []wantRoute{{name: "chat", sink: "slack", urlSecret: "slack/url", maxItems: 20, timeout: 10 * time.Second}}},
		{name: "consumer renamed", values: enabled + "  name: audit-store\n  alerts:\n    routes:\n      - {name: chat, slack: {urlSecret: {name: slack, key: url}}}\n", cm: "audit-store-alerts",
			want: []wantRoute{{name: "chat", sink: "slack", urlSecret: "slack/url", maxItems: 20, timeout: 10 * time.Second}}},
		{name: "testdata values", values: string(testdataValues), cm: "violations-alerts", want: []wantRoute{
			{name: "security", sink: "webhook", url: "https://hooks.internal.example/gatekeeper", maxItems: 50, timeout: 30 * time.Second},
			{name: "ops", sink: "webhook", urlSecret: "alert-webhooks/ops-url", tokenSecret: "alert-webhooks/ops-token", maxItems: 20, timeout: 10 * time.Second},
			{name: "chat", sink: "slack", urlSecret: "alert-slack/url", maxItems: 20, timeout: 90 * time.Second},
		}},
		{name: "routes with the consumer off", values: "consumer:\n  alerts:\n    routes:\n      - {name: hook, webhook: {url: 'https://hooks.example/v'}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := renderValues(t, tt.values, tt.set...)
			if err != nil {
				t.Fatal(err)
			}
			var cms []corev1.ConfigMap
			for _, o := range find(objs, "ConfigMap") {
				if o.Namespace() != namespace {
					cms = append(cms, decode[corev1.ConfigMap](t, o.Obj))
				}
			}
			d := consumerDeployment(t, objs)
			if tt.want == nil {
				if len(cms) != 0 {
					t.Errorf("no routes, but ConfigMaps %v", cms)
				}
				if d != nil {
					checkNoAlerts(t, d)
				}
				return
			}
			if len(cms) != 1 || cms[0].Name != tt.cm || cms[0].Namespace != consumerNS || len(cms[0].Data) != 1 {
				t.Fatalf("want one ConfigMap %s/%s with one key, got %+v", consumerNS, tt.cm, cms)
			}
			if cms[0].Labels["app.kubernetes.io/component"] != "consumer" {
				t.Errorf("ConfigMap labels %v", cms[0].Labels)
			}
			file, ok := cms[0].Data[alertsKey]
			if !ok {
				t.Fatalf("ConfigMap data has no %s: %v", alertsKey, cms[0].Data)
			}
			cfg, err := alerts.Parse(alertsKey, []byte(file))
			if err != nil {
				t.Fatalf("the consumer refuses the rendered routes: %v\n%s", err, file)
			}
			if d == nil {
				t.Fatal("no consumer Deployment")
			}
			files := checkAlertsPod(t, d, tt.cm, file)
			if len(cfg.Routes) != len(tt.want) {
				t.Fatalf("%d routes, want %d:\n%s", len(cfg.Routes), len(tt.want), file)
			}
			for i, w := range tt.want {
				checkRoute(t, cfg.Routes[i], w, files)
			}
		})
	}
}

// consumerDeployment returns the consumer's Deployment, nil when none.
func consumerDeployment(t *testing.T, objs []render.Object) *appsv1.Deployment {
	t.Helper()
	for _, o := range find(objs, "Deployment") {
		if o.Namespace() != namespace {
			d := decode[appsv1.Deployment](t, o.Obj)
			return &d
		}
	}
	return nil
}

// checkNoAlerts: without routes the consumer has no alerts flag, volume
// or annotation.
func checkNoAlerts(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template
	if _, ok := flagValue(pod.Spec.Containers[0].Args, "alerts-config"); ok {
		t.Errorf("no routes, but args %q", pod.Spec.Containers[0].Args)
	}
	for _, v := range pod.Spec.Volumes {
		if v.Name == "alerts" {
			t.Errorf("no routes, but volume %+v", v)
		}
	}
	if _, ok := pod.Annotations[checksumAnn]; ok {
		t.Errorf("no routes, but annotation %s", checksumAnn)
	}
}

// checkAlertsPod checks the consumer pod's flag, mount, projected volume
// and checksum annotation, and returns the files the volume holds (path
// under the alerts directory -> "configmap/key" or "secret/key").
func checkAlertsPod(t *testing.T, d *appsv1.Deployment, cm, file string) map[string]string {
	t.Helper()
	pod := d.Spec.Template
	c := pod.Spec.Containers[0]
	var n int
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--alerts-config") {
			n++
			if a != alertsFlag {
				t.Errorf("consumer arg %q, want %q", a, alertsFlag)
			}
		}
	}
	if n != 1 {
		t.Errorf("consumer args %q have --alerts-config %d times, want once", c.Args, n)
	}
	var mounts []corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if m.Name == "alerts" {
			mounts = append(mounts, m)
		}
	}
	if len(mounts) != 1 || mounts[0].MountPath != alertsDir || !mounts[0].ReadOnly || mounts[0].SubPath != "" {
		t.Errorf("alerts mounts %+v, want one read-only at %s", mounts, alertsDir)
	}
	sum := sha256.Sum256([]byte(file))
	if got, want := pod.Annotations[checksumAnn], hex.EncodeToString(sum[:]); got != want {
		t.Errorf("pod annotation %s = %q, want the SHA-256 of alerts.yaml %q", checksumAnn, got, want)
	}
	files := map[string]string{}
	var found bool
	for _, v := range pod.Spec.Volumes {
		if v.Name != "alerts" {
			continue
		}
		found = true
		if v.Projected == nil || v.Projected.DefaultMode == nil || *v.Projected.DefaultMode != 0o440 {
			t.Fatalf("volume alerts %+v, want a projected volume with mode 0440", v)
		}
		for _, s := range v.Projected.Sources {
			var name string
			var items []corev1.KeyToPath
			switch {
			case s.ConfigMap != nil:
				name, items = "configmap "+s.ConfigMap.Name, s.ConfigMap.Items
			case s.Secret != nil:
				name, items = "secret "+s.Secret.Name, s.Secret.Items
			default:
				t.Errorf("projected source %+v", s)
			}
			if len(items) == 0 {
				t.Errorf("%s is projected whole; want items", name)
			}
			for _, it := range items {
				if _, dup := files[it.Path]; dup {
					t.Errorf("two sources project %s", it.Path)
				}
				files[it.Path] = name + "/" + it.Key
			}
		}
	}
	if !found {
		t.Fatal("no volume alerts")
	}
	if files[alertsKey] != "configmap "+cm+"/"+alertsKey {
		t.Errorf("%s/%s comes from %q, want ConfigMap %s key %s", alertsDir, alertsKey, files[alertsKey], cm, alertsKey)
	}
	return files
}

// checkRoute compares a route read by alerts.Parse with what the values
// say, and finds each file it reads in the volume.
func checkRoute(t *testing.T, r alerts.Route, w wantRoute, files map[string]string) {
	t.Helper()
	e := r.Webhook
	sink := alerts.SinkWebhook
	if r.Slack != nil {
		e, sink = r.Slack, alerts.SinkSlack
	}
	if r.Name != w.name || sink != w.sink || r.MaxItems != w.maxItems || time.Duration(r.Timeout) != w.timeout {
		t.Errorf("route %s: %s, maxItems %d, timeout %s; want %+v", r.Name, sink, r.MaxItems, time.Duration(r.Timeout), w)
	}
	if e.URL != w.url || e.URLEnv != "" {
		t.Errorf("route %s: url %q env %q, want url %q", r.Name, e.URL, e.URLEnv, w.url)
	}
	for _, f := range []struct{ field, file, secret, base string }{
		{"urlFile", e.URLFile, w.urlSecret, "url"},
		{"tokenFile", e.TokenFile, w.tokenSecret, "token"},
	} {
		if (f.file == "") != (f.secret == "") {
			t.Errorf("route %s: %s %q, want it from Secret key %q", r.Name, f.field, f.file, f.secret)
			continue
		}
		if f.file == "" {
			continue
		}
		// Relative to the routes file, which is at the volume's root.
		rel := f.file
		if rel != path.Join(w.name, f.base) {
			t.Errorf("route %s: %s %q, want %s/%s", r.Name, f.field, f.file, w.name, f.base)
		}
		if got := files[rel]; got != "secret "+f.secret {
			t.Errorf("route %s: %s %s comes from %q in the volume, want Secret %s", r.Name, f.field, f.file, got, f.secret)
		}
	}
}

// TestConsumerAlertsChecksum: the pod's checksum annotation changes with
// the routes, so that a change rolls the pods.
func TestConsumerAlertsChecksum(t *testing.T) {
	sums := map[string]string{}
	for _, maxItems := range []string{"10", "11"} {
		objs, err := renderValues(t, "", "consumer.enabled=true", "consumer.alerts.routes[0].name=hook",
			"consumer.alerts.routes[0].webhook.url=https://hooks.example/v", "consumer.alerts.routes[0].maxItems="+maxItems)
		if err != nil {
			t.Fatal(err)
		}
		d := consumerDeployment(t, objs)
		if d == nil {
			t.Fatal("no consumer Deployment")
		}
		sums[maxItems] = d.Spec.Template.Annotations[checksumAnn]
	}
	if sums["10"] == "" || sums["10"] == sums["11"] {
		t.Errorf("checksums %v, want two different ones", sums)
	}
}

// TestConsumerAlertsValues: values.schema.json and the chart's checks
// refuse routes the consumer would refuse (or that would put a credential
// in a ConfigMap), naming the field, without printing the credential; and
// accept the edges the consumer accepts.
func TestConsumerAlertsValues(t *testing.T) {
	const secret = "S3cr3tT0ken"
	route := func(r string) string { return "consumer:\n  enabled: true\n  alerts:\n    routes:\n" + r }
	tests := []struct {
		name   string
		values string
		want   []string // in the error; nil means the values render
	}{
		{"slack url", route("      - {name: chat, slack: {url: 'https://hooks.slack.example/services/T0/B0/" + secret + "'}}\n"),
			[]string{"/consumer/alerts/routes/0/slack", "additional properties 'url' not allowed", "missing property 'urlSecret'"}},
		{"slack token", route("      - {name: chat, slack: {urlSecret: {name: s, key: u}, tokenSecret: {name: s, key: t}}}\n"),
			[]string{"/consumer/alerts/routes/0/slack", "additional properties 'tokenSecret' not allowed"}},
		{"webhook url with a token query", route("      - {name: hook, webhook: {url: 'https://hooks.example/v?token=" + secret + "'}}\n"),
			[]string{"/consumer/alerts/routes/0/webhook/url", "without user info (user:password@) or query", "give urlSecret"}},
		{"webhook url with user info", route("      - {name: hook, webhook: {url: 'https://alerts:" + secret + "@hooks.example/v'}}\n"),
			[]string{"/consumer/alerts/routes/0/webhook/url", "without user info"}},
		{"webhook url not http", route("      - {name: hook, webhook: {url: 'ftp://hooks.example/v'}}\n"),
			[]string{"/consumer/alerts/routes/0/webhook/url", "an http or https URL"}},
		{"webhook url and urlSecret", route("      - {name: hook, webhook: {url: 'https://hooks.example/v', urlSecret: {name: s, key: u}}}\n"),
			[]string{"/consumer/alerts/routes/0/webhook", "'oneOf' failed"}},
		{"webhook with a token only", route("      - {name: hook, webhook: {tokenSecret: {name: s, key: t}}}\n"),
			[]string{"/consumer/alerts/routes/0/webhook", "missing property 'url'", "missing property 'urlSecret'"}},
		{"no sink", route("      - {name: hook}\n"),
			[]string{"/consumer/alerts/routes/0", "missing property 'webhook'", "missing property 'slack'"}},
		{"two sinks", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, slack: {urlSecret: {name: s, key: u}}}\n"),
			[]string{"/consumer/alerts/routes/0", "'oneOf' failed"}},
		{"Secret without key", route("      - {name: hook, webhook: {urlSecret: {name: s}}}\n"),
			[]string{"/consumer/alerts/routes/0/webhook/urlSecret", "missing property 'key'"}},
		{"name not a DNS label", route("      - {name: Team_A, webhook: {url: 'https://hooks.example/v'}}\n"),
			[]string{"/consumer/alerts/routes/0/name"}},
		{"no name", route("      - {webhook: {url: 'https://hooks.example/v'}}\n"),
			[]string{"/consumer/alerts/routes/0", "missing property 'name'"}},
		{"duplicate name", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}}\n      - {name: chat, slack: {urlSecret: {name: s, key: u}}}\n      - {name: hook, slack: {urlSecret: {name: s, key: u}}}\n"),
			[]string{`consumer.alerts.routes[2].name: "hook" is also the name of consumer.alerts.routes[0]`, "give each route its own name"}},
		{"maxItems 0", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, maxItems: 0}\n"),
			[]string{"/consumer/alerts/routes/0/maxItems", "minimum"}},
		{"maxItems 101", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, maxItems: 101}\n"),
			[]string{"/consumer/alerts/routes/0/maxItems", "maximum"}},
		{"timeout not a duration", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, timeout: 10 seconds}\n"),
			[]string{"/consumer/alerts/routes/0/timeout"}},
		{"timeout too long", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, timeout: 5m1s}\n"),
			[]string{"consumer.alerts.routes[0].timeout: 5m1s (route hook)", "want 100ms to 5m"}},
		{"timeout too short", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, timeout: 99ms}\n"),
			[]string{"consumer.alerts.routes[0].timeout: 99ms", "want 100ms to 5m"}},
		{"unknown match field", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, match: {namespace: [a]}}\n"),
			[]string{"/consumer/alerts/routes/0/match", "'namespace'"}},
		{"unknown enforcement action", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, match: {enforcementActions: [block]}}\n"),
			[]string{"/consumer/alerts/routes/0/match/enforcementActions/0"}},
		{"unknown route field", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, channel: '#alerts'}\n"),
			[]string{"/consumer/alerts/routes/0", "'channel'"}},
		{"unknown alerts field", "consumer:\n  alerts:\n    route: []\n", []string{"/consumer/alerts", "'route'"}},
		// The edges the consumer accepts.
		{"timeout 100ms and maxItems 1", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, timeout: 100ms, maxItems: 1}\n"), nil},
		{"timeout 5m and maxItems 100", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, timeout: 5m, maxItems: 100}\n"), nil},
		{"timeout in seconds with a fraction", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}, timeout: 0.5s}\n"), nil},
		{"webhook url with a port and fragment", route("      - {name: hook, webhook: {url: 'http://receiver.monitoring.svc:8080/alerts#v1'}}\n"), nil},
		{"63-character name", route("      - {name: " + strings.Repeat("a", 63) + ", webhook: {url: 'https://hooks.example/v'}}\n"), nil},
		{"names sharing a prefix", route("      - {name: hook, webhook: {url: 'https://hooks.example/v'}}\n      - {name: hook-2, webhook: {url: 'https://hooks.example/v'}}\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := renderValues(t, tt.values)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("values refused: %v\n%s", err, tt.values)
				}
				for _, o := range find(objs, "ConfigMap") {
					if o.Namespace() != consumerNS {
						continue
					}
					data := decode[corev1.ConfigMap](t, o.Obj).Data[alertsKey]
					if _, err := alerts.Parse(alertsKey, []byte(data)); err != nil {
						t.Errorf("the chart accepts values the consumer refuses: %v\n%s", err, data)
					}
					return
				}
				t.Fatal("no alerts ConfigMap")
			}
			if err == nil {
				t.Fatalf("values rendered without error:\n%s", tt.values)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the credential:\n%v", err)
			}
		})
	}
}

// TestConsumerAlertsRefusedByBoth: the credentials the schema refuses
// the consumer refuses too (the chart is not looser than the binary).
func TestConsumerAlertsRefusedByBoth(t *testing.T) {
	for _, file := range []string{
		"routes:\n  - {name: chat, slack: {url: 'https://hooks.slack.example/services/T0/B0/x'}}\n",
		"routes:\n  - {name: hook, webhook: {url: 'https://hooks.example/v?token=x'}}\n",
		"routes:\n  - {name: hook, webhook: {url: 'https://u:p@hooks.example/v'}}\n",
		"routes:\n  - {name: chat, slack: {urlFile: /f, tokenFile: /t}}\n",
		"routes:\n  - {name: hook, webhook: {url: 'https://hooks.example/v'}}\n  - {name: hook, webhook: {url: 'https://hooks.example/v'}}\n",
	} {
		if _, err := alerts.Parse(alertsKey, []byte(file)); err == nil {
			t.Errorf("the consumer accepts what the chart refuses:\n%s", file)
		}
	}
}
