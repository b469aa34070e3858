// Package kustomize_test keeps kustomize/ equal to charts/gatekeeper-pubsub:
// every overlay, built in-process as `kustomize build` does, must produce the
// same objects as the chart rendered with the overlay's helm-values.yaml,
// apart from Helm's own labels and annotations (see compare_test.go). It also
// checks the audit-pubsub component on a copy of Gatekeeper's released audit
// Deployment, and that no kustomization uses deprecated fields.
package kustomize_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"sigs.k8s.io/yaml"
)

var (
	root      = filepath.Join("..", "..")
	chartDir  = filepath.Join(root, "charts", "gatekeeper-pubsub")
	kustDir   = filepath.Join(root, "kustomize")
	overlays  = filepath.Join(kustDir, "overlays")
	testdata  = "testdata"
	component = filepath.Join(kustDir, "components", "audit-pubsub")
)

// releaseName is the Helm release the kustomize tree corresponds to: its
// app.kubernetes.io/instance label (also in the audit's selector).
const releaseName = "gatekeeper-pubsub"

// overlayCases lists every overlay with the namespace its chart equivalent
// is installed in (helm-values.yaml cannot hold the namespace).
var overlayCases = []struct {
	overlay   string
	namespace string
}{
	{overlay: "quickstart", namespace: "gatekeeper-system"},
	{overlay: "quickstart-tls", namespace: "gatekeeper-system"},
	{overlay: "production-kafka", namespace: "policy-system"},
	{overlay: "consumer", namespace: "gatekeeper-system"},
	{overlay: "consumer-alerts", namespace: "gatekeeper-system"},
	{overlay: "export-disk", namespace: "gatekeeper-system"},
}

func buildOverlay(t *testing.T, name string) []render.Object {
	t.Helper()
	objs, err := render.Kustomize(context.Background(), filepath.Join(overlays, name))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func renderChart(t *testing.T, name, namespace string) []render.Object {
	t.Helper()
	objs, err := render.Chart(context.Background(), chartDir, render.ChartOptions{
		ReleaseName: releaseName,
		Namespace:   namespace,
		ValueFiles:  []string{filepath.Join(overlays, name, "helm-values.yaml")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if _, ok := o.Annotations()["helm.sh/hook"]; ok {
			t.Fatalf("%s: Helm hook %s rendered; hooks have no kustomize equivalent", name, o)
		}
	}
	return objs
}

func TestOverlaysMatchChart(t *testing.T) {
	for _, tc := range overlayCases {
		t.Run(tc.overlay, func(t *testing.T) {
			kust := buildOverlay(t, tc.overlay)
			chart := renderChart(t, tc.overlay, tc.namespace)
			if len(kust) == 0 {
				t.Fatal("the overlay builds no objects")
			}
			if diffs := compareObjects(chart, kust); len(diffs) > 0 {
				t.Errorf("kustomize/overlays/%s differs from the chart with its helm-values.yaml (change both sides together):\n%s",
					tc.overlay, strings.Join(diffs, "\n"))
			}
		})
	}
}

// TestEveryOverlayAndComponentIsCompared makes sure the equality test covers
// the whole tree: every overlay is in overlayCases with a helm-values.yaml,
// and every component is used by at least one overlay.
func TestEveryOverlayAndComponentIsCompared(t *testing.T) {
	entries, err := os.ReadDir(overlays)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if !slices.ContainsFunc(overlayCases, func(c struct{ overlay, namespace string }) bool { return c.overlay == e.Name() }) {
			t.Errorf("overlay %s is not in overlayCases", e.Name())
		}
		if _, err := os.Stat(filepath.Join(overlays, e.Name(), "helm-values.yaml")); err != nil {
			t.Errorf("overlay %s has no helm-values.yaml: %v", e.Name(), err)
		}
		k := readKustomization(t, filepath.Join(overlays, e.Name(), "kustomization.yaml"))
		comps, _ := k["components"].([]any)
		for _, c := range comps {
			used[filepath.Base(c.(string))] = true
		}
	}
	// base uses audit-pubsub, and every overlay uses base.
	used["audit-pubsub"] = true
	comps, err := os.ReadDir(filepath.Join(kustDir, "components"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comps {
		if c.IsDir() && !used[c.Name()] {
			t.Errorf("component %s is used by no overlay, so nothing compares it with the chart", c.Name())
		}
	}
}

// TestCompareReportsObjectAndPath changes one side in memory and checks that
// the comparison names the object and the field path.
func TestCompareReportsObjectAndPath(t *testing.T) {
	const audit = "apps/v1 Deployment gatekeeper-system/gatekeeper-audit"
	const conn = "v1 ConfigMap gatekeeper-system/audit-connection"
	cases := []struct {
		name   string
		mutate func(chart, kust *[]render.Object)
		want   []string
	}{
		{
			name: "flag changed in kustomize",
			mutate: func(_, kust *[]render.Object) {
				args := lookupSlice(t, find(t, *kust, "Deployment", "gatekeeper-audit"), "spec", "template", "spec", "containers")[0].(map[string]any)["args"].([]any)
				args[len(args)-1] = "--audit-channel=other"
			},
			want: []string{audit + `: spec.template.spec.containers[0].args[17]: chart "--audit-channel=audit-channel", kustomize "--audit-channel=other"`},
		},
		{
			name: "annotation removed in the chart",
			mutate: func(chart, _ *[]render.Object) {
				ann := lookupMap(t, find(t, *chart, "Deployment", "gatekeeper-audit"), "spec", "template", "metadata", "annotations")
				delete(ann, "dapr.io/sidecar-seccomp-profile-type")
			},
			want: []string{audit + `: spec.template.metadata.annotations["dapr.io/sidecar-seccomp-profile-type"]: chart missing, kustomize "RuntimeDefault"`},
		},
		{
			name: "label added in kustomize",
			mutate: func(_, kust *[]render.Object) {
				lookupMap(t, find(t, *kust, "ConfigMap", "audit-connection"), "metadata", "labels")["team"] = "platform"
			},
			want: []string{conn + `: metadata.labels.team: chart missing, kustomize "platform"`},
		},
		{
			name: "Helm label in kustomize is a difference",
			mutate: func(_, kust *[]render.Object) {
				lookupMap(t, find(t, *kust, "ConfigMap", "audit-connection"), "metadata", "labels")["app.kubernetes.io/managed-by"] = "Helm"
			},
			want: []string{conn + `: metadata.labels["app.kubernetes.io/managed-by"]: chart missing, kustomize "Helm"`},
		},
		{
			name: "object renamed in the chart",
			mutate: func(chart, _ *[]render.Object) {
				lookupMap(t, find(t, *chart, "ConfigMap", "audit-connection"), "metadata")["name"] = "violations"
			},
			want: []string{
				conn + ": only in kustomize",
				"v1 ConfigMap gatekeeper-system/violations: only in the chart",
			},
		},
		{
			name: "integer changed",
			mutate: func(chart, _ *[]render.Object) {
				lookupMap(t, find(t, *chart, "Deployment", "sub"), "spec")["replicas"] = int64(2)
			},
			want: []string{"apps/v1 Deployment fake-subscriber/sub: spec.replicas: chart 2, kustomize 1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kust := buildOverlay(t, "quickstart")
			chart := renderChart(t, "quickstart", "gatekeeper-system")
			if d := compareObjects(chart, kust); len(d) > 0 {
				t.Fatalf("quickstart differs before the change:\n%s", strings.Join(d, "\n"))
			}
			tc.mutate(&chart, &kust)
			got := compareObjects(chart, kust)
			if !slices.Equal(got, tc.want) {
				t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestAuditPubsubComponent applies the audit-pubsub component to a copy of
// Gatekeeper's released audit Deployment (testdata/gatekeeper), with the
// connection and channel named once, in the settings or by one patch.
func TestAuditPubsubComponent(t *testing.T) {
	const defaultSettings = `apiVersion: v1
kind: ConfigMap
metadata:
  name: gatekeeper-pubsub-settings
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  connection: audit-connection
  channel: audit-channel
`
	absGatekeeper, err := filepath.Abs(filepath.Join(testdata, "gatekeeper"))
	if err != nil {
		t.Fatal(err)
	}
	absComponent, err := filepath.Abs(component)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ connection, channel string }
	cases := []struct {
		name string
		dir  string            // a kustomization on disk, or
		fs   map[string]string // files written to a temporary directory
		want want
	}{
		{
			name: "testdata kustomization",
			dir:  filepath.Join(testdata, "audit-pubsub"),
			want: want{"audit-connection", "audit-channel"},
		},
		{
			name: "connection renamed in the settings",
			fs: map[string]string{
				"settings.yaml": strings.Replace(defaultSettings, "connection: audit-connection", "connection: violations-conn", 1),
			},
			want: want{"violations-conn", "audit-channel"},
		},
		{
			name: "channel renamed in the settings",
			fs: map[string]string{
				"settings.yaml": strings.Replace(defaultSettings, "channel: audit-channel", "channel: violations", 1),
			},
			want: want{"audit-connection", "violations"},
		},
		{
			name: "connection renamed by one patch",
			fs: map[string]string{
				"settings/settings.yaml": defaultSettings,
				"settings/kustomization.yaml": `resources: [settings.yaml]
patches:
  - target: {kind: ConfigMap, name: gatekeeper-pubsub-settings}
    patch: |-
      - {op: replace, path: /data/connection, value: renamed-by-patch}
`,
			},
			want: want{"renamed-by-patch", "audit-channel"},
		},
		{
			name: "flags already present are replaced, not repeated",
			fs: map[string]string{
				"settings.yaml": defaultSettings,
				"patch-existing-flags.yaml": `- {op: add, path: /spec/template/spec/containers/0/args/-, value: --enable-pub-sub=false}
- {op: add, path: /spec/template/spec/containers/0/args/-, value: --audit-channel=old}
`,
			},
			want: want{"audit-connection", "audit-channel"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
				// kustomize accepts no absolute paths.
				rel := func(from, to string) string {
					r, err := filepath.Rel(from, to)
					if err != nil {
						t.Fatal(err)
					}
					return r
				}
				resources := []string{rel(dir, absGatekeeper)}
				for name, content := range tc.fs {
					write(t, filepath.Join(dir, name), content)
					switch {
					case name == "settings.yaml":
						resources = append(resources, name)
					case name == "settings/kustomization.yaml":
						resources = append(resources, "settings")
					case strings.HasPrefix(name, "patch-"):
						// Applied below the component, as if the flags were in the released manifest.
						sub := filepath.Join(dir, "gatekeeper")
						write(t, filepath.Join(sub, name), content)
						write(t, filepath.Join(sub, "kustomization.yaml"), "resources: ["+rel(sub, absGatekeeper)+"]\npatches:\n  - path: "+name+"\n    target: {kind: Deployment, name: gatekeeper-audit}\n")
						resources[0] = "gatekeeper"
					}
				}
				slices.Sort(resources[1:])
				write(t, filepath.Join(dir, "kustomization.yaml"), "resources: ["+strings.Join(resources, ", ")+"]\ncomponents: ["+rel(dir, absComponent)+"]\n")
			}
			objs, err := render.Kustomize(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			checkAuditPubsub(t, objs, tc.want.connection, tc.want.channel)
		})
	}
}

func checkAuditPubsub(t *testing.T, objs []render.Object, connection, channel string) {
	t.Helper()
	d := find(t, objs, "Deployment", "gatekeeper-audit")
	if d.Namespace() != "gatekeeper-system" {
		t.Errorf("audit namespace %q", d.Namespace())
	}
	containers := lookupSlice(t, d, "spec", "template", "spec", "containers")
	var args []string
	for _, c := range containers {
		c := c.(map[string]any)
		if c["name"] == "manager" {
			for _, a := range c["args"].([]any) {
				args = append(args, a.(string))
			}
		}
	}
	if len(containers) != 1 || args == nil {
		t.Fatalf("want the one container manager with args, got %v", containers)
	}
	// The released manifest's own flags stay in place, in order.
	if !slices.Equal(args[:3], []string{"--audit-interval=60", "--log-level=INFO", "--constraint-violations-limit=20"}) {
		t.Errorf("the manifest's flags changed: %v", args)
	}
	for _, f := range []struct{ flag, value string }{
		{"--enable-pub-sub", "true"},
		{"--audit-connection", connection},
		{"--audit-channel", channel},
	} {
		var found []string
		for _, a := range args {
			if strings.HasPrefix(a, f.flag+"=") {
				found = append(found, a)
			}
		}
		if want := f.flag + "=" + f.value; !slices.Equal(found, []string{want}) {
			t.Errorf("args have %v, want exactly %s", found, want)
		}
	}
	ann := d.Obj["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
	for k, v := range map[string]string{
		"dapr.io/enabled":                      "true",
		"dapr.io/app-id":                       "audit",
		"dapr.io/metrics-port":                 "9999",
		"dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault",
	} {
		if ann[k] != v {
			t.Errorf("pod annotation %s = %v, want %q", k, ann[k], v)
		}
	}
	var cms []string
	for _, o := range objs {
		if o.Kind() == "ConfigMap" {
			cms = append(cms, o.Namespace()+"/"+o.Name())
		}
	}
	if want := []string{"gatekeeper-system/" + connection}; !slices.Equal(cms, want) {
		t.Errorf("ConfigMaps %v, want %v (named like --audit-connection; the settings are local-config)", cms, want)
	}
	comp := find(t, objs, "Component", "pubsub")
	if comp.Namespace() != d.Namespace() {
		t.Errorf("Dapr Component in %q, want the audit's namespace %q", comp.Namespace(), d.Namespace())
	}
	// Gatekeeper's own objects are not relabelled by the component.
	if _, ok := d.Labels()["app.kubernetes.io/name"]; ok {
		t.Errorf("the component labelled Gatekeeper's Deployment: %v", d.Labels())
	}
}

// TestConsumerComponentFollowsSettings builds the consumer component on
// Gatekeeper's released audit with another channel: --topic is the settings'
// channel and the consumer's Component has the audit's spec.
func TestConsumerComponentFollowsSettings(t *testing.T) {
	objs := buildOnGatekeeper(t, "audit-connection", "violations", "consumer", "")
	var d render.Object
	for _, o := range objs {
		if o.Kind() == "Deployment" && o.Namespace() == "gatekeeper-violations" && o.Name() == "violations" {
			d = o
		}
	}
	if d.Obj == nil {
		t.Fatal("no Deployment gatekeeper-violations/violations")
	}
	var topics []string
	for _, a := range lookupSlice(t, d, "spec", "template", "spec", "containers")[0].(map[string]any)["args"].([]any) {
		if strings.HasPrefix(a.(string), "--topic=") {
			topics = append(topics, a.(string))
		}
	}
	if !slices.Equal(topics, []string{"--topic=violations"}) {
		t.Errorf("consumer args have %v, want --topic=violations", topics)
	}
	var audit, consumer any
	for _, o := range objs {
		if o.Kind() != "Component" {
			continue
		}
		switch o.Namespace() {
		case "gatekeeper-system":
			audit = o.Obj["spec"]
		case "gatekeeper-violations":
			consumer = o.Obj["spec"]
		}
	}
	if audit == nil || !reflect.DeepEqual(audit, consumer) {
		t.Errorf("consumer Component spec %v, audit's %v", consumer, audit)
	}
	if typ, _ := render.Lookup(audit.(map[string]any), "type"); typ != "pubsub.redis" {
		t.Errorf("audit Component type %v", typ)
	}
}

// TestExportDiskComponentFollowsSettings builds the export-disk component
// on Gatekeeper's released audit with another connection and channel: the
// Connection (driver disk) is named from the settings and replaces the
// ConfigMap, the manager exports with --enable-violation-export, and
// pubsub-forward reads the settings' channel from the disk path, on the
// volume the manager writes to.
func TestExportDiskComponentFollowsSettings(t *testing.T) {
	objs := buildOnGatekeeper(t, "violations-conn", "violations", "export-disk", "images: [{name: openpolicyagent/gatekeeper, newTag: v3.23.1}]\n")
	var kinds []string
	for _, o := range objs {
		if o.Kind() == "ConfigMap" || o.Kind() == "Connection" {
			kinds = append(kinds, o.Kind()+" "+o.Namespace()+"/"+o.Name())
		}
	}
	if want := []string{"Connection gatekeeper-system/violations-conn"}; !slices.Equal(kinds, want) {
		t.Errorf("connection configs %v, want %v", kinds, want)
	}
	conn := find(t, objs, "Connection", "violations-conn")
	if d, _ := render.Lookup(conn.Obj, "spec", "driver"); d != "disk" {
		t.Errorf("Connection driver %v", d)
	}
	path, _ := render.Lookup(conn.Obj, "spec", "config", "path")
	d := find(t, objs, "Deployment", "gatekeeper-audit")
	containers := lookupSlice(t, d, "spec", "template", "spec", "containers")
	if len(containers) != 2 {
		t.Fatalf("audit containers %v, want manager and pubsub-forward", containers)
	}
	args := func(c any) []string {
		var out []string
		for _, a := range c.(map[string]any)["args"].([]any) {
			out = append(out, a.(string))
		}
		return out
	}
	manager, forwarder := containers[0].(map[string]any), containers[1].(map[string]any)
	margs := args(manager)
	for _, want := range []string{"--enable-violation-export=true", "--audit-connection=violations-conn", "--audit-channel=violations"} {
		if !slices.Contains(margs, want) {
			t.Errorf("manager args %v lack %s", margs, want)
		}
	}
	if slices.ContainsFunc(margs, func(a string) bool { return strings.HasPrefix(a, "--enable-pub-sub") }) {
		t.Errorf("manager args %v keep --enable-pub-sub, which v3.23.1 does not have", margs)
	}
	if manager["name"] != "manager" || !strings.HasSuffix(manager["image"].(string), ":v3.23.1") {
		t.Errorf("first container %v %v, want the manager of v3.23.1", manager["name"], manager["image"])
	}
	if want := []string{"--path=" + path.(string), "--topic=violations", "--pubsub=pubsub"}; forwarder["name"] != "pubsub-forward" || !slices.Equal(args(forwarder), want) {
		t.Errorf("container %v args %v, want pubsub-forward with %v", forwarder["name"], args(forwarder), want)
	}
	for _, c := range []map[string]any{manager, forwarder} {
		var mounted bool
		for _, m := range c["volumeMounts"].([]any) {
			m := m.(map[string]any)
			mounted = mounted || m["name"] == "tmp-violations" && m["mountPath"] == "/tmp/violations"
		}
		if !mounted {
			t.Errorf("container %v does not mount tmp-violations at /tmp/violations", c["name"])
		}
	}
}

// TestNoDeprecatedFields scans every kustomization in the repository's
// kustomize tree and test data for fields kustomize deprecates.
func TestNoDeprecatedFields(t *testing.T) {
	var files []string
	for _, dir := range []string{kustDir, testdata} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && slices.Contains([]string{"kustomization.yaml", "kustomization.yml", "Kustomization"}, d.Name()) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 8 {
		t.Fatalf("found only %d kustomizations: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(filepath.ToSlash(f), func(t *testing.T) {
			k := readKustomization(t, f)
			if d := deprecatedFields(k); len(d) > 0 {
				t.Errorf("%s uses deprecated fields %v; use resources, patches, labels, replacements, components", f, d)
			}
			isComponent := strings.Contains(filepath.ToSlash(f), "/components/")
			if kind, _ := k["kind"].(string); isComponent && kind != "Component" {
				t.Errorf("%s: kind %q, want Component", f, kind)
			}
		})
	}
}

// TestDeprecatedFieldScanFindsThem checks the scan on a kustomization that
// uses every deprecated field.
func TestDeprecatedFieldScanFindsThem(t *testing.T) {
	k := map[string]any{}
	if err := yaml.Unmarshal([]byte("bases: [a]\ncommonLabels: {a: b}\npatchesStrategicMerge: [p]\npatchesJson6902: []\nvars: []\nresources: [r]\n"), &k); err != nil {
		t.Fatal(err)
	}
	if got := deprecatedFields(k); !slices.Equal(got, deprecated) {
		t.Errorf("found %v, want %v", got, deprecated)
	}
}

// deprecated are kustomize's deprecated kustomization fields and their
// replacements: bases -> resources, commonLabels -> labels,
// patchesStrategicMerge and patchesJson6902 -> patches, vars -> replacements.
var deprecated = []string{"bases", "commonLabels", "patchesStrategicMerge", "patchesJson6902", "vars"}

// deprecatedFields returns the deprecated fields a kustomization uses.
func deprecatedFields(k map[string]any) []string {
	var out []string
	for _, field := range deprecated {
		if _, ok := k[field]; ok {
			out = append(out, field)
		}
	}
	return out
}

func readKustomization(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k := map[string]any{}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// find returns the one object of a kind and name.
func find(t *testing.T, objs []render.Object, kind, name string) render.Object {
	t.Helper()
	var out []render.Object
	for _, o := range objs {
		if o.Kind() == kind && o.Name() == name {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s %s", kind, name)
	}
	return out[0]
}

func lookupMap(t *testing.T, o render.Object, path ...string) map[string]any {
	t.Helper()
	v, _ := render.Lookup(o.Obj, path...)
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %s is not a map", o, strings.Join(path, "."))
	}
	return m
}

func lookupSlice(t *testing.T, o render.Object, path ...string) []any {
	t.Helper()
	v, _ := render.Lookup(o.Obj, path...)
	s, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: %s is not a list", o, strings.Join(path, "."))
	}
	return s
}

// buildOnGatekeeper builds Gatekeeper's released audit (testdata) with the
// audit-pubsub component and kustomize/components/<extra>, the settings
// naming the connection and channel, plus more kustomization lines.
func buildOnGatekeeper(t *testing.T, connection, channel, extra, more string) []render.Object {
	t.Helper()
	dir := t.TempDir()
	rel := func(to string) string {
		abs, err := filepath.Abs(to)
		if err != nil {
			t.Fatal(err)
		}
		r, err := filepath.Rel(dir, abs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	write(t, filepath.Join(dir, "settings.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: gatekeeper-pubsub-settings
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  connection: `+connection+`
  channel: `+channel+`
`)
	write(t, filepath.Join(dir, "kustomization.yaml"), "resources: ["+rel(filepath.Join(testdata, "gatekeeper"))+", settings.yaml]\n"+
		"components: ["+rel(component)+", "+rel(filepath.Join(kustDir, "components", extra))+"]\n"+more)
	objs, err := render.Kustomize(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
