package chart_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// gatekeeperDiskValues is the values file for Gatekeeper's own chart that
// plugs pubsub-forward into its audit.
var gatekeeperDiskValues = filepath.Join("..", "..", "docs", "gatekeeper-chart-disk-values.yaml")

// notesValues returns the values file the NOTES print for Gatekeeper's
// chart (between <<'VALUES' and VALUES), decoded.
func notesValues(t *testing.T, notes string) map[string]any {
	t.Helper()
	_, rest, ok := strings.Cut(notes, "<<'VALUES'\n")
	block, _, ok2 := strings.Cut(rest, "\n  VALUES\n")
	if !ok || !ok2 {
		t.Fatalf("NOTES print no values block:\n%s", notes)
	}
	lines := strings.Split(block, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	var v map[string]any
	if err := yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &v); err != nil {
		t.Fatalf("NOTES values block: %v\n%s", err, block)
	}
	return v
}

// TestGatekeeperChartDiskValuesMatchNotes: docs/gatekeeper-chart-disk-values.yaml
// is what the NOTES print, with the chart's defaults, for Gatekeeper's own
// chart (audit.deploy=false, audit.exportBackend=disk).
func TestGatekeeperChartDiskValuesMatchNotes(t *testing.T) {
	r := renderSet(t, valueSet{set: []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "audit.deploy=false"}}, false)
	data, err := os.ReadFile(gatekeeperDiskValues)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if got := notesValues(t, r.Notes); !reflect.DeepEqual(got, file) {
		gb, _ := yaml.Marshal(got)
		t.Errorf("%s differs from the values the NOTES print; make it:\n%s", gatekeeperDiskValues, gb)
	}
}

// TestGatekeeperChartWithForwarder renders Gatekeeper's own chart (v3.23.1,
// from its Go module) with docs/gatekeeper-chart-disk-values.yaml: the audit
// pod runs pubsub-forward beside the manager, both mount the volume that
// holds the Connection's path, the forwarder reads that path and the
// audit's channel, the pod has the Dapr annotations and passes PodSecurity
// restricted.
func TestGatekeeperChartWithForwarder(t *testing.T) {
	mod, err := gomod.Download(t.Context(), "github.com/open-policy-agent/gatekeeper/v3", "v3.23.1")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Chart(t.Context(), filepath.Join(mod.Dir, "charts", "gatekeeper"), render.ChartOptions{
		ReleaseName: "gatekeeper", Namespace: namespace, ValueFiles: []string{gatekeeperDiskValues},
	})
	if err != nil {
		t.Fatal(err)
	}
	var audit *appsv1.Deployment
	for _, o := range find(objs, "Deployment") {
		if o.Name() == "gatekeeper-audit" {
			d := decode[appsv1.Deployment](t, o.Obj)
			audit = &d
		}
	}
	if audit == nil {
		t.Fatal("Gatekeeper's chart rendered no gatekeeper-audit Deployment")
	}
	conns := find(objs, "Connection")
	if len(conns) != 1 {
		t.Fatalf("want one Connection, got %v", conns)
	}
	conn := conns[0]
	driver, _ := render.Lookup(conn.Obj, "spec", "driver")
	path, _ := render.Lookup(conn.Obj, "spec", "config", "path")
	maxRuns, _ := render.Lookup(conn.Obj, "spec", "config", "maxAuditResults")
	if driver != "disk" || path != "/tmp/violations/topics" || conn.Namespace() != namespace {
		t.Errorf("Connection %s: driver %v, path %v", conn, driver, path)
	}
	if n, ok := maxRuns.(int64); !ok || n != 5 {
		t.Errorf("Connection maxAuditResults %#v, want 5", maxRuns)
	}
	pod := audit.Spec.Template
	var m, f *corev1.Container
	for i, c := range pod.Spec.Containers {
		switch c.Name {
		case "manager":
			m = &pod.Spec.Containers[i]
		case "pubsub-forward":
			f = &pod.Spec.Containers[i]
		}
	}
	if m == nil || f == nil || len(pod.Spec.Containers) != 2 {
		t.Fatalf("audit containers %v, want manager and pubsub-forward", pod.Spec.Containers)
	}
	channel, _ := flagValue(m.Args, "audit-channel")
	connection, _ := flagValue(m.Args, "audit-connection")
	if v, _ := flagValue(m.Args, "enable-violation-export"); v != "true" || connection != conn.Name() {
		t.Errorf("manager args %q: want --enable-violation-export=true and --audit-connection=%s", m.Args, conn.Name())
	}
	want := []string{"--path=" + path.(string), "--topic=" + channel, "--pubsub=pubsub"}
	if !slices.Equal(f.Args, want) || f.Image != "pubsub-forward:latest" {
		t.Errorf("pubsub-forward image %s args %q, want args %q", f.Image, f.Args, want)
	}
	mountedAt := func(c *corev1.Container) string {
		for _, vm := range c.VolumeMounts {
			if vm.Name == "tmp-violations" && !vm.ReadOnly {
				return vm.MountPath
			}
		}
		return ""
	}
	for _, c := range []*corev1.Container{m, f} {
		if mp := mountedAt(c); mp == "" || !strings.HasPrefix(path.(string), strings.TrimSuffix(mp, "/")+"/") {
			t.Errorf("container %s mounts tmp-violations at %q, which does not hold %s: %v", c.Name, mp, path, c.VolumeMounts)
		}
	}
	var volume bool
	for _, v := range pod.Spec.Volumes {
		volume = volume || v.Name == "tmp-violations" && v.EmptyDir != nil
	}
	if !volume {
		t.Errorf("no emptyDir tmp-violations among %v", pod.Spec.Volumes)
	}
	if !reflect.DeepEqual(f.SecurityContext, m.SecurityContext) {
		t.Errorf("pubsub-forward securityContext %+v, manager's %+v", f.SecurityContext, m.SecurityContext)
	}
	if p := f.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.IntValue() != 9095 {
		t.Errorf("pubsub-forward readiness probe %+v", p)
	}
	for k, v := range map[string]string{"dapr.io/enabled": "true", "dapr.io/app-id": "audit", "dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault"} {
		if pod.Annotations[k] != v {
			t.Errorf("audit pod annotation %s = %q, want %q", k, pod.Annotations[k], v)
		}
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	if res := policy.AggregateCheckResults(eval.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec)); !res.Allowed {
		t.Errorf("Gatekeeper's audit pod with pubsub-forward violates PodSecurity restricted: %s", res.ForbiddenReason())
	}
}

// TestGatekeeperChartReadsNotesValues: for each Gatekeeper release whose
// chart is at hand (its Go module), the values our NOTES print with
// audit.deploy=false (the default) and that gatekeeperVersion are all read
// by that release's chart (each key appears as .Values.<key> in its
// templates), and Gatekeeper's chart rendered with them gives its audit
// the flag that version publishes with, our connection and channel, and
// the Dapr annotations. v3.13-v3.18 read audit.enablePubsub; v3.23.1 reads
// enableViolationExport and exportBackend and ignores audit.enablePubsub.
func TestGatekeeperChartReadsNotesValues(t *testing.T) {
	for _, tc := range []struct{ version, flag string }{
		{"v3.13.0", "enable-pub-sub"},
		{"v3.17.0", "enable-pub-sub"},
		{"v3.18.0", "enable-pub-sub"},
		{"v3.23.1", "enable-violation-export"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			r := renderSet(t, valueSet{set: []string{"audit.enablePubsub=true", "audit.deploy=false", "gatekeeperVersion=" + tc.version, "audit.connection=violations-conn", "audit.channel=violations"}}, false)
			vals := notesValues(t, r.Notes)
			mod, err := gomod.Download(t.Context(), "github.com/open-policy-agent/gatekeeper/v3", tc.version)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(mod.Dir, "charts", "gatekeeper")
			var templates strings.Builder
			entries, err := os.ReadDir(filepath.Join(dir, "templates"))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, "templates", e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				templates.Write(b)
			}
			var check func(prefix string, m map[string]any)
			check = func(prefix string, m map[string]any) {
				for k, v := range m {
					key := prefix + k
					if sub, ok := v.(map[string]any); ok && key != "auditPodAnnotations" {
						check(key+".", sub)
						continue
					}
					if !strings.Contains(templates.String(), ".Values."+key) {
						t.Errorf("NOTES print %s for Gatekeeper %s, whose chart (%s/templates) never reads .Values.%s", key, tc.version, dir, key)
					}
				}
			}
			check("", vals)

			block, err := yaml.Marshal(vals)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "gatekeeper-pubsub-values.yaml")
			if err := os.WriteFile(file, block, 0o600); err != nil {
				t.Fatal(err)
			}
			objs, err := render.Chart(t.Context(), dir, render.ChartOptions{ReleaseName: "gatekeeper", Namespace: namespace, ValueFiles: []string{file}})
			if err != nil {
				t.Fatal(err)
			}
			var audit *appsv1.Deployment
			for _, o := range find(objs, "Deployment") {
				if o.Name() == "gatekeeper-audit" {
					d := decode[appsv1.Deployment](t, o.Obj)
					audit = &d
				}
			}
			if audit == nil {
				t.Fatalf("Gatekeeper %s's chart rendered no gatekeeper-audit Deployment with %v", tc.version, vals)
			}
			var args []string
			for _, c := range audit.Spec.Template.Spec.Containers {
				if c.Name == "manager" {
					args = c.Args
				}
			}
			for flag, want := range map[string]string{tc.flag: "true", "audit-connection": "violations-conn", "audit-channel": "violations"} {
				if got, _ := flagValue(args, flag); got != want {
					t.Errorf("Gatekeeper %s's audit: --%s=%q, want %q (args %q, values from our NOTES %v)", tc.version, flag, got, want, args, vals)
				}
			}
			for k, v := range map[string]string{"dapr.io/enabled": "true", "dapr.io/app-id": "audit"} {
				if got := audit.Spec.Template.Annotations[k]; got != v {
					t.Errorf("Gatekeeper %s's audit pod annotation %s = %q, want %q", tc.version, k, got, v)
				}
			}
		})
	}
}
