// Package chart_test renders charts/gatekeeper-pubsub in-process (as
// `helm template` does, through internal/render) across value sets and checks the
// objects, golden files of whole renders, PodSecurity, helm lint, the values
// schema and the generated README.
package chart_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
	"golang.org/x/mod/semver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files and the chart README")

var chartDir = filepath.Join("..", "..", "charts", "gatekeeper-pubsub")

const namespace = "gatekeeper-system"

// valueSet is one render of the chart.
type valueSet struct {
	name      string
	set       []string
	setString []string
	files     []string
}

// valueSets are rendered for the golden files and checked by every test.
var valueSets = []valueSet{
	{name: "defaults"},
	{name: "pubsub", set: []string{"audit.enablePubsub=true"}},
	{name: "audit-deploy-false", set: []string{"audit.enablePubsub=true", "audit.deploy=false"}},
	// The default mode, an add-on to an installed Gatekeeper, with the two
	// versions make test runs: NOTES print what each one's chart reads.
	{name: "addon-v3.17.0", set: []string{"audit.enablePubsub=true", "audit.deploy=false", "gatekeeperVersion=v3.17.0"}},
	{name: "addon-v3.23.1", set: []string{"audit.enablePubsub=true", "audit.deploy=false", "gatekeeperVersion=v3.23.1"}},
	{name: "custom-connection-channel", set: []string{"audit.enablePubsub=true", "audit.connection=violations-conn", "audit.channel=violations", "config.component=broker"}},
	{name: "subscriber", set: []string{"audit.enablePubsub=true", "subscriber.enabled=true"}},
	{name: "consumer", set: []string{"audit.enablePubsub=true", "consumer.enabled=true"}},
	{name: "subscriber-app-token", set: []string{"audit.enablePubsub=true", "subscriber.enabled=true", "subscriber.appTokenSecret=dapr-app-token"}},
	{name: "consumer-reports", set: []string{"audit.enablePubsub=true", "consumer.enabled=true", "consumer.reports.enabled=true", "consumer.reports.severity=high"}},
	{name: "consumer-reports-uids", set: []string{"audit.enablePubsub=true", "consumer.enabled=true", "consumer.reports.enabled=true", "consumer.reports.resourceUIDs=true"},
		files: []string{filepath.Join("testdata", "values-consumer-reports-uids.yaml")}},
	{name: "consumer-alerts", set: []string{"audit.enablePubsub=true", "consumer.enabled=true"}, files: []string{filepath.Join("testdata", "values-consumer-alerts.yaml")}},
	{name: "consumer-postgres", set: []string{"audit.enablePubsub=true", "consumer.enabled=true", "consumer.store.type=postgres", "consumer.store.postgres.existingSecret=violations-store", "consumer.replicas=2", "consumer.appTokenSecret=dapr-app-token", "consumer.deadLetterTopic=audit-dead-letter", "component.scopes={audit}", "consumer.apiTokenSecret.name=violations-api-token"}},
	{name: "gatekeeper-v3.13.0", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.13.0"}},
	{name: "gatekeeper-v3.19.0", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.19.0"}},
	{name: "gatekeeper-v3.20.0", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.20.0", "subscriber.enabled=true"}},
	{name: "scopes-and-annotations", set: []string{"audit.enablePubsub=true", "component.scopes={audit}", "auditPodAnnotations.dapr\\.io/log-level=debug", "podLabels.team=platform"}},
	{name: "kafka", files: []string{filepath.Join("testdata", "values-kafka.yaml")}},
	{name: "rabbitmq", files: []string{filepath.Join("testdata", "values-rabbitmq.yaml")}},
	{name: "jetstream", files: []string{filepath.Join("testdata", "values-jetstream.yaml")}},
	{name: "export-disk", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk"}},
	{name: "export-disk-subscriber", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "audit.channel=violations",
		"config.component=broker", "audit.disk.maxAuditResults=3", "audit.forwarder.image.repository=registry.example/pubsub-forward", "audit.forwarder.image.tag=1.2.3",
		"audit.forwarder.resources.requests.memory=64Mi", "subscriber.enabled=true"}},
	{name: "export-disk-audit-deploy-false", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "audit.deploy=false"}},
	// networkPolicy: every value given (the audit and the consumer), and
	// only enabled (the audit exporting to disk and the subscriber).
	{name: "networkpolicy", set: []string{"audit.enablePubsub=true", "consumer.enabled=true"}, files: []string{filepath.Join("testdata", "values-networkpolicy.yaml")}},
	// lint RBAC with get on the Components' Secrets by name, in the
	// release and subscriber namespaces.
	{name: "lint-rbac-secrets", set: []string{"audit.enablePubsub=true", "subscriber.enabled=true", "lint.rbac.create=true", "lint.rbac.secrets=true", "lint.rbac.serviceAccount.name=ci"}},
	{name: "networkpolicy-defaults", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "subscriber.enabled=true", "networkPolicy.enabled=true"}},
}

// gatekeeperVersion is the value set's gatekeeperVersion (the chart's
// default when not set).
func (vs valueSet) gatekeeperVersion() string {
	for _, s := range vs.set {
		if v, ok := strings.CutPrefix(s, "gatekeeperVersion="); ok {
			return v
		}
	}
	return "v3.18.3"
}

// form is how the value set's Gatekeeper version is told to publish:
// "pubsub" (v3.13-v3.18), "export" (v3.19) or "connection" (v3.20+).
func (vs valueSet) form() string {
	v := vs.gatekeeperVersion()
	switch {
	case semver.Compare(v, "v3.20.0") >= 0:
		return "connection"
	case semver.Compare(v, "v3.19.0") >= 0:
		return "export"
	}
	return "pubsub"
}

// disk says whether the value set exports to disk.
func (vs valueSet) disk() bool { return slices.Contains(vs.set, "audit.exportBackend=disk") }

// setValue returns the value of key=value in the value set's --set, or def.
func (vs valueSet) setValue(key, def string) string {
	for _, s := range vs.set {
		if v, ok := strings.CutPrefix(s, key+"="); ok {
			return v
		}
	}
	return def
}

// values are the value set's --set expressions. A value set runs the audit
// from the chart (audit.deploy=true, prepended) unless it sets audit.deploy
// itself or is "defaults": the chart's default (audit.deploy=false, an
// add-on to an installed Gatekeeper's audit) has its own value sets.
func (vs valueSet) values() []string {
	if vs.name == "defaults" || slices.ContainsFunc(vs.set, func(s string) bool { return strings.HasPrefix(s, "audit.deploy=") }) {
		return vs.set
	}
	return append([]string{"audit.deploy=true"}, vs.set...)
}

// deploy says whether the value set runs the audit from the chart.
func (vs valueSet) deploy() bool { return slices.Contains(vs.values(), "audit.deploy=true") }

func (vs valueSet) options(includeTests bool) render.ChartOptions {
	return render.ChartOptions{
		ReleaseName:  "gatekeeper-pubsub",
		Namespace:    namespace,
		Set:          vs.values(),
		SetString:    vs.setString,
		ValueFiles:   vs.files,
		IncludeTests: includeTests,
	}
}

func renderSet(t *testing.T, vs valueSet, includeTests bool) *render.Rendered {
	t.Helper()
	r, err := render.RenderChart(context.Background(), chartDir, vs.options(includeTests))
	if err != nil {
		t.Fatalf("rendering %s: %v", vs.name, err)
	}
	return r
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/chart -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s is not current; run go test ./test/chart -update and review the diff.\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %q\n  got:  %q", i+1, w, g)
		}
	}
	return ""
}

func TestGolden(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := renderSet(t, vs, true)
			golden(t, filepath.Join("testdata", vs.name+".golden.yaml"), r.Manifest)
			golden(t, filepath.Join("testdata", vs.name+".notes.golden.txt"), r.Notes)
		})
	}
}

// find returns the objects of a kind.
func find(objs []render.Object, kind string) []render.Object {
	var out []render.Object
	for _, o := range objs {
		if o.Kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func decode[T any](t *testing.T, v any) T {
	t.Helper()
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// flagValue returns the value of --name=value in args, and whether it is there.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name {
			return "", true
		}
	}
	return "", false
}

func auditDeployment(t *testing.T, objs []render.Object) *appsv1.Deployment {
	t.Helper()
	for _, o := range find(objs, "Deployment") {
		if o.Namespace() == namespace {
			d := decode[appsv1.Deployment](t, o.Obj)
			return &d
		}
	}
	return nil
}

func manager(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "manager" {
			return c
		}
	}
	t.Fatalf("no manager container in %s", d.Name)
	return corev1.Container{}
}

func validate(t *testing.T, schema string, v any, what string) {
	t.Helper()
	problems, err := schemas.Validate(schema, v)
	if err != nil {
		t.Fatalf("schema %s: %v", schema, err)
	}
	for _, p := range problems {
		t.Errorf("%s does not match schema %s: %s", what, schema, p)
	}
}

func hasSchema(name string) bool { return slices.Contains(schemas.Names(), name) }

// TestConsistency checks, for every value set, that the objects fit each
// other as Gatekeeper and Dapr need.
func TestConsistency(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := renderSet(t, vs, true).Objects
			audit := auditDeployment(t, objs)
			pubsub := slices.Contains(vs.set, "audit.enablePubsub=true") || len(vs.files) > 0
			deploy := vs.deploy()
			if deploy != (audit != nil) {
				t.Fatalf("audit Deployment rendered = %v, want %v", audit != nil, deploy)
			}
			connName := "audit-connection"
			channel := "audit-channel"
			if audit != nil {
				m := manager(t, audit)
				args := m.Args
				for _, want := range []string{"--operation=audit", "--operation=status", "--operation=mutation-status", "--logtostderr", "--disable-opa-builtin={http.send}", "--disable-cert-rotation"} {
					if !slices.Contains(args, want) {
						t.Errorf("audit args lack %s: %q", want, args)
					}
				}
				connName, _ = flagValue(args, "audit-connection")
				channel, _ = flagValue(args, "audit-channel")
				if audit.Spec.Template.Spec.ServiceAccountName != "gatekeeper-admin" {
					t.Errorf("serviceAccountName = %q", audit.Spec.Template.Spec.ServiceAccountName)
				}
				ports := map[string]int32{}
				for _, p := range m.Ports {
					ports[p.Name] = p.ContainerPort
				}
				if ports["metrics"] != 8888 || ports["healthz"] != 9090 {
					t.Errorf("ports = %v", ports)
				}
				if p := m.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.IntValue() != 9090 {
					t.Errorf("liveness probe = %+v", p)
				}
				if p := m.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.IntValue() != 9090 {
					t.Errorf("readiness probe = %+v", p)
				}
				enableFlag := "enable-pub-sub"
				if vs.form() != "pubsub" {
					enableFlag = "enable-violation-export"
				}
				if v, ok := flagValue(args, enableFlag); !ok || v != fmt.Sprint(pubsub) {
					t.Errorf("--%s = %q (present %v), want %v", enableFlag, v, ok, pubsub)
				}
				ann := audit.Spec.Template.Annotations
				if pubsub {
					for k, v := range map[string]string{"dapr.io/enabled": "true", "dapr.io/app-id": "audit", "dapr.io/metrics-port": "9999", "dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault"} {
						if ann[k] != v {
							t.Errorf("audit pod annotation %s = %q, want %q", k, ann[k], v)
						}
					}
				} else if ann["dapr.io/enabled"] != "" {
					t.Errorf("pubsub off but the audit pod has Dapr annotations %v", ann)
				}
			}
			// The connection config is in the release namespace (the
			// consumer's alert routes are a ConfigMap of its own).
			var configMaps []render.Object
			for _, o := range find(objs, "ConfigMap") {
				if o.Namespace() == namespace {
					configMaps = append(configMaps, o)
				}
			}
			conns := find(objs, "Connection")
			if !pubsub {
				if len(configMaps)+len(conns)+len(find(objs, "Component")) != 0 {
					t.Errorf("pubsub off but connection or Component rendered")
				}
				return
			}
			driver := "dapr"
			if vs.disk() {
				driver = "disk"
			}
			var config any
			switch {
			case vs.disk() && !deploy:
				// Gatekeeper's own chart renders the Connection.
				if len(conns)+len(configMaps) != 0 {
					t.Fatalf("disk export with audit.deploy=false: want no connection config (Gatekeeper's chart renders it), got %d and %d", len(conns), len(configMaps))
				}
			case vs.form() == "connection":
				if len(conns) != 1 || len(configMaps) != 0 {
					t.Fatalf("want one Connection and no ConfigMap, got %d and %d", len(conns), len(configMaps))
				}
				c := conns[0]
				if c.APIVersion() != "connection.gatekeeper.sh/v1alpha1" || c.Name() != connName || c.Namespace() != namespace {
					t.Errorf("Connection = %s %s", c.APIVersion(), c)
				}
				if d, _ := render.Lookup(c.Obj, "spec", "driver"); d != driver {
					t.Errorf("spec.driver = %v, want %s", d, driver)
				}
				config, _ = render.Lookup(c.Obj, "spec", "config")
			default:
				if len(configMaps) != 1 || len(conns) != 0 {
					t.Fatalf("want one ConfigMap and no Connection, got %d and %d", len(configMaps), len(conns))
				}
				cm := decode[corev1.ConfigMap](t, configMaps[0].Obj)
				if cm.Name != connName || cm.Namespace != namespace {
					t.Errorf("ConfigMap %s/%s, but the audit uses --audit-connection=%s in %s", cm.Namespace, cm.Name, connName, namespace)
				}
				key := "provider"
				if strings.Contains(vs.name, "v3.19") {
					key = "driver"
				}
				if cm.Data[key] != "dapr" || len(cm.Data) != 2 {
					t.Errorf("ConfigMap data = %v, want %s: dapr and config", cm.Data, key)
				}
				if err := json.Unmarshal([]byte(cm.Data["config"]), &config); err != nil {
					t.Fatalf("data.config is not JSON: %v\n%s", err, cm.Data["config"])
				}
				if key == "provider" {
					validate(t, schemas.ConnectionConfigMap, decode[any](t, configMaps[0].Obj), "connection ConfigMap")
				}
			}
			var component any = vs.setValue("config.component", "pubsub")
			if config != nil {
				validate(t, schemas.ConnectionConfig(driver), config, "connection config")
				if !vs.disk() {
					component = config.(map[string]any)["component"]
				}
			}
			if vs.disk() && audit != nil {
				checkForwarder(t, vs, audit, config, channel, fmt.Sprint(component))
			}
			comps := find(objs, "Component")
			var own *render.Object
			for i, c := range comps {
				if c.Namespace() == namespace {
					own = &comps[i]
				}
				if hasSchema(schemas.Component) {
					validate(t, schemas.Component, c.Obj, c.String())
				}
				typ, _ := render.Lookup(c.Obj, "spec", "type")
				// The per-type schema describes metadata as name -> string;
				// a secretKeyRef or envRef stands for a value set at run time.
				if name := schemas.PubsubMetadata(fmt.Sprint(typ)); hasSchema(name) {
					md, _ := render.Lookup(c.Obj, "spec", "metadata")
					items := map[string]any{}
					for _, it := range md.([]any) {
						m := it.(map[string]any)
						v, ok := m["value"]
						if !ok {
							v = "from-a-reference"
						}
						items[m["name"].(string)] = fmt.Sprint(v)
					}
					validate(t, name, items, c.String()+" spec.metadata")
				}
			}
			if own == nil || own.Name() != component {
				t.Errorf("no Component %s/%v for the connection config (Components: %v)", namespace, component, comps)
			}
			if slices.Contains(vs.set, "subscriber.enabled=true") {
				sub := find(objs, "Deployment")
				var found bool
				for _, o := range sub {
					if o.Namespace() != "fake-subscriber" {
						continue
					}
					found = true
					d := decode[appsv1.Deployment](t, o.Obj)
					ann := d.Spec.Template.Annotations
					if ann["dapr.io/app-id"] != "subscriber" || ann["dapr.io/app-port"] != "6002" || ann["dapr.io/enable-api-logging"] != "true" || ann["dapr.io/enabled"] != "true" {
						t.Errorf("subscriber annotations = %v", ann)
					}
					var env string
					for _, e := range d.Spec.Template.Spec.Containers[0].Env {
						if e.Name == "AUDIT_CHANNEL" {
							env = e.Value
						}
					}
					if env != channel {
						t.Errorf("subscriber AUDIT_CHANNEL = %q, audit channel %q", env, channel)
					}
				}
				if !found {
					t.Error("no subscriber Deployment")
				}
				var subComp bool
				for _, c := range comps {
					if c.Namespace() == "fake-subscriber" && c.Name() == component {
						subComp = true
					}
				}
				if !subComp {
					t.Error("no subscriber Component")
				}
			}
			if slices.Contains(vs.set, "consumer.enabled=true") {
				checkConsumer(t, vs, objs, channel, component)
			}
		})
	}
}

// checkForwarder checks the disk export: the Connection's path and
// maxAuditResults, the shared emptyDir in the manager and in the
// pubsub-forward container, and the forwarder's flags, image, probes and
// security context.
func checkForwarder(t *testing.T, vs valueSet, audit *appsv1.Deployment, config any, channel, component string) {
	t.Helper()
	cfg, _ := config.(map[string]any)
	n, err := strconv.Atoi(vs.setValue("audit.disk.maxAuditResults", "5"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"path": "/tmp/violations/topics", "maxAuditResults": float64(n)}
	if got := decode[map[string]any](t, cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("disk connection config %v, want %v", got, want)
	}
	pod := audit.Spec.Template.Spec
	var volume bool
	for _, v := range pod.Volumes {
		volume = volume || v.Name == "tmp-violations" && v.EmptyDir != nil
	}
	if !volume {
		t.Errorf("no emptyDir volume tmp-violations: %v", pod.Volumes)
	}
	mounted := func(c corev1.Container) bool {
		for _, m := range c.VolumeMounts {
			if m.Name == "tmp-violations" && m.MountPath == "/tmp/violations" && !m.ReadOnly && m.SubPath == "" {
				return true
			}
		}
		return false
	}
	m := manager(t, audit)
	if !mounted(m) {
		t.Errorf("manager does not mount tmp-violations at /tmp/violations: %v", m.VolumeMounts)
	}
	if len(pod.Containers) != 2 || pod.Containers[1].Name != "pubsub-forward" {
		t.Fatalf("audit pod containers %v, want manager and pubsub-forward", pod.Containers)
	}
	f := pod.Containers[1]
	if !mounted(f) {
		t.Errorf("pubsub-forward does not mount tmp-violations at /tmp/violations: %v", f.VolumeMounts)
	}
	wantArgs := []string{"--path=/tmp/violations/topics", "--topic=" + channel, "--pubsub=" + component}
	if !slices.Equal(f.Args, wantArgs) || len(f.Command) != 0 {
		t.Errorf("pubsub-forward command %q args %q, want args %q", f.Command, f.Args, wantArgs)
	}
	image := vs.setValue("audit.forwarder.image.repository", "pubsub-forward") + ":" + vs.setValue("audit.forwarder.image.tag", "latest")
	if f.Image != image {
		t.Errorf("pubsub-forward image %q, want %q", f.Image, image)
	}
	if len(f.Ports) != 1 || f.Ports[0].ContainerPort != 9095 || f.Ports[0].Name != "forward-metrics" {
		t.Errorf("pubsub-forward ports %v", f.Ports)
	}
	for _, p := range []struct {
		what  string
		probe *corev1.Probe
		path  string
	}{{"startup", f.StartupProbe, "/healthz"}, {"liveness", f.LivenessProbe, "/healthz"}, {"readiness", f.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.IntValue() != 9095 {
			t.Errorf("pubsub-forward %s probe = %+v, want GET %s on 9095", p.what, p.probe, p.path)
		}
	}
	if !reflect.DeepEqual(f.SecurityContext, m.SecurityContext) {
		t.Errorf("pubsub-forward securityContext %+v, want the manager's %+v", f.SecurityContext, m.SecurityContext)
	}
	if mem := vs.setValue("audit.forwarder.resources.requests.memory", ""); mem != "" && f.Resources.Requests.Memory().String() != mem {
		t.Errorf("pubsub-forward resources %v", f.Resources)
	}
	// The Dapr sidecar is the forwarder's: the annotations stay.
	if ann := audit.Spec.Template.Annotations; ann["dapr.io/enabled"] != "true" || ann["dapr.io/app-id"] != "audit" {
		t.Errorf("audit pod annotations %v", ann)
	}
}

// checkConsumer checks the violations consumer's objects against the
// audit's channel and the Component it publishes through.
func checkConsumer(t *testing.T, vs valueSet, objs []render.Object, channel string, component any) {
	t.Helper()
	const ns = "gatekeeper-violations"
	postgres := slices.Contains(vs.set, "consumer.store.type=postgres")
	var d *appsv1.Deployment
	for _, o := range find(objs, "Deployment") {
		if o.Namespace() == ns && o.Name() == "violations" {
			dd := decode[appsv1.Deployment](t, o.Obj)
			d = &dd
		}
	}
	if d == nil {
		t.Fatal("no consumer Deployment violations in " + ns)
	}
	pod := d.Spec.Template
	ann := pod.Annotations
	for k, v := range map[string]string{"dapr.io/enabled": "true", "dapr.io/app-id": "subscriber", "dapr.io/app-port": "6002", "dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault"} {
		if ann[k] != v {
			t.Errorf("consumer pod annotation %s = %q, want %q", k, ann[k], v)
		}
	}
	if got, want := ann["dapr.io/app-token-secret"], map[bool]string{true: "dapr-app-token"}[postgres]; got != want {
		t.Errorf("dapr.io/app-token-secret = %q, want %q", got, want)
	}
	if pod.Spec.ServiceAccountName != "violations" || pod.Spec.AutomountServiceAccountToken == nil || !*pod.Spec.AutomountServiceAccountToken {
		t.Errorf("consumer service account %q, automount %v", pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken)
	}
	c := pod.Spec.Containers[0]
	for name, want := range map[string]string{"app-listen": "127.0.0.1:6002", "listen": ":8080", "pubsub": fmt.Sprint(component), "topic": channel, "cluster": "default", "resolve-after": "1", "run-grace": "90s"} {
		if v, ok := flagValue(c.Args, name); !ok || v != want {
			t.Errorf("consumer --%s = %q (present %v), want %q", name, v, ok, want)
		}
	}
	store, hasStore := flagValue(c.Args, "store")
	storeFile, hasStoreFile := flagValue(c.Args, "store-file")
	dead, hasDead := flagValue(c.Args, "dead-letter-topic")
	if postgres {
		if hasStore || storeFile != "/etc/violations/store/url" || dead != "audit-dead-letter" {
			t.Errorf("postgres consumer args %q", c.Args)
		}
		if *d.Spec.Replicas != 2 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
			t.Errorf("postgres consumer replicas %d, strategy %q", *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
		var secret string
		for _, v := range pod.Spec.Volumes {
			if v.Secret != nil && v.Name == "store" {
				secret = v.Secret.SecretName
			}
		}
		if secret != "violations-store" || len(find(objs, "PersistentVolumeClaim")) != 0 {
			t.Errorf("postgres consumer Secret volume %q, PVCs %d", secret, len(find(objs, "PersistentVolumeClaim")))
		}
	} else {
		if store != "sqlite:///var/lib/violations/violations.db" || hasStoreFile || hasDead {
			t.Errorf("sqlite consumer args %q", c.Args)
		}
		if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("sqlite consumer replicas %d, strategy %q", *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
		pvcs := find(objs, "PersistentVolumeClaim")
		if len(pvcs) != 1 || pvcs[0].Namespace() != ns || pvcs[0].Name() != "violations" {
			t.Errorf("PVCs %v", pvcs)
		}
		var mounted bool
		for _, m := range c.VolumeMounts {
			mounted = mounted || m.MountPath == "/var/lib/violations"
		}
		if !mounted {
			t.Errorf("no volume at /var/lib/violations: %v", c.VolumeMounts)
		}
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.IntValue() != 8080 {
		t.Errorf("consumer readiness probe = %+v", p)
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.IntValue() != 8080 {
		t.Errorf("consumer liveness probe = %+v", p)
	}
	var svc bool
	for _, o := range find(objs, "Service") {
		if o.Namespace() == ns && o.Name() == "violations" {
			s := decode[corev1.Service](t, o.Obj)
			svc = s.Spec.Type == corev1.ServiceTypeClusterIP && len(s.Spec.Ports) == 1 && s.Spec.Ports[0].Port == 8080 && s.Spec.Selector["app"] == "violations"
		}
	}
	if !svc {
		t.Error("no ClusterIP Service violations on port 8080 selecting app=violations")
	}
	var comp bool
	for _, o := range find(objs, "Component") {
		if o.Namespace() == ns && o.Name() == component {
			comp = true
			scopes, _ := render.Lookup(o.Obj, "scopes")
			// Scoped to the consumer's app-id by default
			// (component.allowAllApps=false).
			if want := []any{"subscriber"}; !reflect.DeepEqual(scopes, want) {
				t.Errorf("consumer Component scopes %v, want %v", scopes, want)
			}
		}
	}
	if !comp {
		t.Error("no consumer Component")
	}
	roles := find(objs, "ClusterRole")
	if len(roles) != 1 || len(find(objs, "ClusterRoleBinding")) != 1 {
		t.Fatalf("ClusterRoles %v", roles)
	}
	var want any
	rules := `
- {apiGroups: [constraints.gatekeeper.sh], resources: ["*"], verbs: [get, list, watch]}
- {apiGroups: [templates.gatekeeper.sh], resources: [constrainttemplates], verbs: [get, list, watch]}
`
	reportsOn, uids := slices.Contains(vs.set, "consumer.reports.enabled=true"), slices.Contains(vs.set, "consumer.reports.resourceUIDs=true")
	if reportsOn {
		// Exactly what writing the reports needs, no patch or watch.
		rules += "- {apiGroups: [openreports.io], resources: [reports, clusterreports], verbs: [get, list, create, update, delete]}\n"
	}
	if reportsOn && uids {
		// Get and list on exactly the kinds listed
		// (testdata/values-consumer-reports-uids.yaml), nothing wider.
		rules += "- {apiGroups: [\"\"], resources: [configmaps, pods], verbs: [get, list]}\n- {apiGroups: [apps], resources: [deployments], verbs: [get, list]}\n"
	}
	checkConsumerReports(t, reportsOn, uids, objs, c)
	if err := yaml.Unmarshal([]byte(rules), &want); err != nil {
		t.Fatal(err)
	}
	if got := roles[0].Obj["rules"]; !reflect.DeepEqual(got, want) {
		t.Errorf("consumer ClusterRole rules %v, want %v", got, want)
	}
}

// TestPodSecurityRestricted evaluates every pod the chart renders with the
// PodSecurity admission's own checks at the restricted level.
func TestPodSecurityRestricted(t *testing.T) {
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			pods := 0
			for _, o := range renderSet(t, vs, true).Objects {
				var tmpl corev1.PodTemplateSpec
				switch o.Kind() {
				case "Deployment":
					tmpl = decode[appsv1.Deployment](t, o.Obj).Spec.Template
				case "Pod":
					p := decode[corev1.Pod](t, o.Obj)
					tmpl = corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
				default:
					continue
				}
				pods++
				res := policy.AggregateCheckResults(eval.EvaluatePod(lv, &tmpl.ObjectMeta, &tmpl.Spec))
				if !res.Allowed {
					t.Errorf("%s (%s) violates PodSecurity restricted: %s", o, o.Position(), res.ForbiddenReason())
				}
			}
			if pods == 0 && vs.deploy() {
				t.Error("no pods rendered")
			}
		})
	}
}

// TestSubscriberNamespaceRestricted checks the namespace enforces restricted.
func TestSubscriberNamespaceRestricted(t *testing.T) {
	objs := renderSet(t, valueSet{set: []string{"subscriber.enabled=true"}}, false).Objects
	ns := find(objs, "Namespace")
	if len(ns) != 1 || ns[0].Name() != "fake-subscriber" {
		t.Fatalf("namespaces = %v", ns)
	}
	if ns[0].Labels()["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("labels = %v", ns[0].Labels())
	}
}

func TestAppVersionIsDefaultGatekeeperVersion(t *testing.T) {
	r := renderSet(t, valueSet{}, false)
	d := auditDeployment(t, r.Objects)
	if got := manager(t, d).Image; got != "openpolicyagent/gatekeeper:v3.18.3" {
		t.Errorf("image = %q", got)
	}
	if v := d.Labels["app.kubernetes.io/version"]; v != "v3.18.3" {
		t.Errorf("appVersion label = %q, want the default gatekeeperVersion v3.18.3", v)
	}
}

// TestBadValues: each mistake fails the render with a message naming the key.
func TestBadValues(t *testing.T) {
	tests := []struct {
		name      string
		set       []string
		setString []string
		values    string // a values file's content
		want      []string
	}{
		{name: "typo in a key", set: []string{"audit.enablePubSub=true"}, want: []string{"/audit", "enablePubSub"}},
		{name: "unknown top-level key", set: []string{"audits.enablePubsub=true"}, want: []string{"audits"}},
		{name: "string instead of boolean", setString: []string{"audit.enablePubsub=true"}, want: []string{"/audit/enablePubsub"}},
		{name: "connection not a DNS name", set: []string{"audit.enablePubsub=true", "audit.connection=Audit_Connection"}, want: []string{"/audit/connection"}},
		{name: "empty channel", set: []string{"audit.enablePubsub=true", "audit.channel="}, want: []string{"/audit/channel"}},
		{name: "metadata item with two sources", set: []string{"audit.enablePubsub=true", "component.metadata[1].value=x"}, want: []string{"/component/metadata/1"}},
		{name: "plaintext password", values: "audit: {enablePubsub: true}\ncomponent:\n  metadata:\n  - {name: redisHost, value: 'r:6379'}\n  - {name: redisPassword, value: hunter2}\n", want: []string{"component.metadata[1]: redisPassword is a secret", "secretKeyRef"}},
		{name: "scopes without the audit", set: []string{"audit.enablePubsub=true", "component.scopes={subscriber}"}, want: []string{"component.scopes", `add "audit"`}},
		{name: "version before pubsub", set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.12.0"}, want: []string{"gatekeeperVersion v3.12.0", "v3.13.0 or later"}},
		{name: "version not semver", set: []string{"gatekeeperVersion=latest"}, want: []string{"/gatekeeperVersion"}},
		{name: "image tag differs from version", set: []string{"image.release=v3.20.0"}, want: []string{"image.release v3.20.0 differs from gatekeeperVersion"}},
		{name: "redis metadata on kafka", set: []string{"audit.enablePubsub=true", "component.type=pubsub.kafka"}, want: []string{"component.metadata[0]: redisHost belongs to pubsub.redis"}},
		{name: "redis without host", values: "audit: {enablePubsub: true}\ncomponent:\n  metadata:\n  - {name: redisHostname, value: 'r:6379'}\n", want: []string{"pubsub.redis needs redisHost"}},
		{name: "duplicate metadata", values: "audit: {enablePubsub: true}\ncomponent:\n  metadata:\n  - {name: redisHost, value: 'r:6379'}\n  - {name: REDISHOST, value: 'h:1'}\n", want: []string{"given twice"}},
		{name: "sidecar disabled by annotation", set: []string{"audit.enablePubsub=true"}, setString: []string{"auditPodAnnotations.dapr\\.io/enabled=false"}, want: []string{"auditPodAnnotations: dapr.io/enabled"}},
		{name: "sidecar unconfined", set: []string{"audit.enablePubsub=true"}, setString: []string{"auditPodAnnotations.dapr\\.io/sidecar-seccomp-profile-type=Unconfined"}, want: []string{"dapr.io/sidecar-seccomp-profile-type", "RuntimeDefault"}},
		{name: "pubsub flag in extraArgs", set: []string{"audit.extraArgs={--audit-channel=x}"}, want: []string{"audit.extraArgs: --audit-channel is set by the chart"}},
		{name: "subscriber in release namespace", set: []string{"subscriber.enabled=true", "subscriber.namespace=" + namespace}, want: []string{"subscriber.namespace gatekeeper-system is the release namespace"}},
		{name: "privileged container", set: []string{"audit.securityContext.privileged=yes"}, want: []string{"/audit/securityContext/privileged"}},
		{name: "unknown securityContext field", set: []string{"audit.securityContext.runAsUsr=1"}, want: []string{"runAsUsr"}},
		{name: "consumer in release namespace", set: []string{"consumer.enabled=true", "consumer.namespace=" + namespace}, want: []string{"consumer.namespace gatekeeper-system is the release namespace"}},
		{name: "consumer dead letters on its own topic", set: []string{"consumer.enabled=true", "consumer.deadLetterTopic=audit-channel"}, want: []string{"consumer.deadLetterTopic audit-channel is the channel"}},
		{name: "reports with a cluster name that names no Lease", set: []string{"consumer.enabled=true", "consumer.reports.enabled=true", "consumer.cluster=Prod_EU"}, want: []string{"consumer.cluster Prod_EU", "Lease violations-reports-Prod_EU"}},
		{name: "resource UIDs without kinds", set: []string{"consumer.enabled=true", "consumer.reports.enabled=true", "consumer.reports.resourceUIDs=true"}, want: []string{"consumer.reports.resourceUIDs needs consumer.reports.resourceUIDKinds"}},
		{name: "resource UID kind without resources", values: "consumer: {enabled: true, reports: {enabled: true, resourceUIDs: true, resourceUIDKinds: [{apiGroups: ['']}]}}\n", want: []string{"/consumer/reports/resourceUIDKinds/0", "resources"}},
		{name: "severity key not a label key", set: []string{"consumer.enabled=true", "consumer.reports.severityKey=team severity"}, want: []string{"/consumer/reports/severityKey"}},
		{name: "consumer shares the subscriber's app-id", set: []string{"consumer.enabled=true", "subscriber.enabled=true"}, want: []string{"consumer.appId subscriber is also subscriber.appId", "consumer.appId=violations"}},
		{name: "unknown consumer key", set: []string{"consumer.replica=2"}, want: []string{"/consumer", "replica"}},
		{name: "disk export before v3.20", set: []string{"audit.enablePubsub=true", "audit.exportBackend=disk"}, want: []string{"audit.exportBackend=disk needs gatekeeperVersion v3.20.0 or later", "gatekeeperVersion is v3.18.3", "audit.exportBackend=dapr"}},
		{name: "disk export with v3.19", set: []string{"audit.enablePubsub=true", "audit.exportBackend=disk", "gatekeeperVersion=v3.19.0"}, want: []string{"audit.exportBackend=disk needs gatekeeperVersion v3.20.0 or later", "gatekeeperVersion is v3.19.0"}},
		{name: "disk export before v3.20 with publishing off", set: []string{"audit.exportBackend=disk", "gatekeeperVersion=v3.17.0"}, want: []string{"audit.exportBackend=disk needs gatekeeperVersion v3.20.0"}},
		{name: "unknown export backend", set: []string{"audit.exportBackend=file", "gatekeeperVersion=v3.23.1"}, want: []string{"/audit/exportBackend"}},
		{name: "too many audit runs", set: []string{"audit.exportBackend=disk", "gatekeeperVersion=v3.23.1", "audit.disk.maxAuditResults=6"}, want: []string{"/audit/disk/maxAuditResults", "maximum"}},
		{name: "negative audit runs", set: []string{"audit.exportBackend=disk", "gatekeeperVersion=v3.23.1", "audit.disk.maxAuditResults=-1"}, want: []string{"/audit/disk/maxAuditResults"}},
		{name: "forwarder without repository", set: []string{"audit.exportBackend=disk", "gatekeeperVersion=v3.23.1", "audit.forwarder.image.repository="}, want: []string{"/audit/forwarder/image/repository"}},
		{name: "unknown forwarder key", set: []string{"audit.forwarder.port=9096"}, want: []string{"/audit/forwarder", "port"}},
		{name: "scopes and allowAllApps", set: []string{"audit.enablePubsub=true", "component.scopes={audit}", "component.allowAllApps=true"}, want: []string{"component.allowAllApps=true", "component.scopes is [audit]"}},
		{name: "unknown networkPolicy key", set: []string{"networkPolicy.enable=true"}, want: []string{"/networkPolicy", "enable"}},
		{name: "API server CIDR without a prefix length", set: []string{"networkPolicy.enabled=true", "networkPolicy.apiServer.cidrs={10.0.0.1}"}, want: []string{"/networkPolicy/apiServer/cidrs/0"}},
		{name: "no API server port", values: "networkPolicy: {enabled: true, apiServer: {ports: []}}\n", want: []string{"/networkPolicy/apiServer/ports"}},
		{name: "metrics peer without a selector", values: "networkPolicy: {enabled: true, metricsFrom: [{}]}\n", want: []string{"/networkPolicy/metricsFrom/0"}},
		{name: "broker type without known ports", set: []string{"audit.enablePubsub=true", "networkPolicy.enabled=true", "component.type=pubsub.gcp.pubsub", "component.metadata=null"},
			want: []string{"networkPolicy.broker.ports is empty", "component.type pubsub.gcp.pubsub"}},
		{name: "Redis port left out of the broker ports", set: []string{"subscriber.enabled=true", "networkPolicy.enabled=true", "component.metadata[0].name=redisHost", "component.metadata[0].value=redis:6380"},
			want: []string{"component.metadata[0]: redisHost redis:6380 is on port 6380", "networkPolicy.broker.ports [6379]", "add 6380"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := valueSet{name: tt.name, set: tt.set, setString: tt.setString}
			if tt.values != "" {
				f := filepath.Join(t.TempDir(), "values.yaml")
				if err := os.WriteFile(f, []byte(tt.values), 0o644); err != nil {
					t.Fatal(err)
				}
				vs.files = []string{f}
			}
			_, err := render.Chart(context.Background(), chartDir, vs.options(true))
			if err == nil {
				t.Fatalf("values %q %q rendered without error", tt.set, tt.setString)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestConsumerStoreSchema: values.schema.json refuses a consumer store that
// cannot work, naming the field.
func TestConsumerStoreSchema(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		want []string // in the error; empty means the values render
	}{
		{name: "sqlite with two replicas", set: []string{"consumer.enabled=true", "consumer.replicas=2"}, want: []string{"/consumer/replicas", "maximum"}},
		{name: "sqlite by default with two replicas", set: []string{"consumer.replicas=2"}, want: []string{"/consumer/replicas"}},
		{name: "postgres without existingSecret", set: []string{"consumer.enabled=true", "consumer.store.type=postgres"}, want: []string{"/consumer/store/postgres/existingSecret", "minLength"}},
		{name: "postgres with an empty key", set: []string{"consumer.enabled=true", "consumer.store.type=postgres", "consumer.store.postgres.existingSecret=s", "consumer.store.postgres.key="}, want: []string{"/consumer/store/postgres/key"}},
		{name: "unknown store type", set: []string{"consumer.enabled=true", "consumer.store.type=mysql"}, want: []string{"/consumer/store/type"}},
		{name: "resolveAfter zero", set: []string{"consumer.enabled=true", "consumer.resolveAfter=0"}, want: []string{"/consumer/resolveAfter"}},
		{name: "runGrace not a duration", set: []string{"consumer.enabled=true", "consumer.runGrace=30 seconds"}, want: []string{"/consumer/runGrace"}},
		{name: "sqlite with one replica", set: []string{"consumer.enabled=true", "consumer.replicas=1"}},
		{name: "postgres with two replicas", set: []string{"consumer.enabled=true", "consumer.store.type=postgres", "consumer.store.postgres.existingSecret=violations-store", "consumer.replicas=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render.Chart(context.Background(), chartDir, valueSet{name: tt.name, set: tt.set}.options(false))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("values %q: %v", tt.set, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("values %q rendered without error", tt.set)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}
