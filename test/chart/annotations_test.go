package chart_test

import (
	"slices"
	"testing"
)

// TestAnnotationOverlay: every default annotation of the audit and the
// subscriber pods can be replaced, and removed with an empty value (Helm's
// null cannot do it: it deletes the user's key and the default comes back).
func TestAnnotationOverlay(t *testing.T) {
	const seccomp = "dapr.io/sidecar-seccomp-profile-type"
	tests := []struct {
		name      string
		setString []string
		key       string
		want      string // "" means absent
	}{
		{"default kept", nil, seccomp, "RuntimeDefault"},
		{"replaced", []string{`auditPodAnnotations.dapr\.io/sidecar-seccomp-profile-type=Localhost`}, seccomp, "Localhost"},
		{"removed with an empty value", []string{`auditPodAnnotations.dapr\.io/sidecar-seccomp-profile-type=`}, seccomp, ""},
		{"app-id replaced", []string{`auditPodAnnotations.dapr\.io/app-id=auditor`}, "dapr.io/app-id", "auditor"},
		{"metrics port removed", []string{`auditPodAnnotations.dapr\.io/metrics-port=`}, "dapr.io/metrics-port", ""},
		{"user annotation added", []string{`auditPodAnnotations.team=platform`}, "team", "platform"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := valueSet{set: []string{"audit.enablePubsub=true"}, setString: tc.setString}
			d := auditDeployment(t, renderSet(t, vs, false).Objects)
			got, ok := d.Spec.Template.Annotations[tc.key]
			if tc.want == "" && ok {
				t.Errorf("annotation %s = %q, want it removed", tc.key, got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("annotation %s = %q, want %q (all: %v)", tc.key, got, tc.want, d.Spec.Template.Annotations)
			}
		})
	}
	t.Run("subscriber default removed", func(t *testing.T) {
		vs := valueSet{set: []string{"audit.enablePubsub=true", "subscriber.enabled=true"}, setString: []string{`subscriber.podAnnotations.dapr\.io/enable-api-logging=`}}
		for _, o := range find(renderSet(t, vs, false).Objects, "Deployment") {
			if o.Name() != "sub" {
				continue
			}
			ann, _, _ := nested(o.Obj, "spec", "template", "metadata", "annotations")
			m, _ := ann.(map[string]any)
			if _, ok := m["dapr.io/enable-api-logging"]; ok || m["dapr.io/app-id"] != "subscriber" {
				t.Errorf("subscriber annotations = %v", m)
			}
			return
		}
		t.Fatal("no subscriber Deployment")
	})
}

// TestVersionLabelFollowsGatekeeperVersion: the objects' version label is
// the Gatekeeper version the audit runs, and from v3.18 the audit runs
// --operation=generate (it alone creates the constraint CRDs there).
func TestVersionLabelFollowsGatekeeperVersion(t *testing.T) {
	for _, tc := range []struct {
		version  string
		generate bool
	}{{"v3.17.0", false}, {"v3.18.3", true}, {"v3.23.1", true}} {
		t.Run(tc.version, func(t *testing.T) {
			vs := valueSet{set: []string{"audit.enablePubsub=true", "gatekeeperVersion=" + tc.version}}
			for _, o := range renderSet(t, vs, false).Objects {
				if v := o.Labels()["app.kubernetes.io/version"]; v != tc.version {
					t.Errorf("%s %s: app.kubernetes.io/version = %q, want %q", o.Kind(), o.Name(), v, tc.version)
				}
			}
			args := manager(t, auditDeployment(t, renderSet(t, vs, false).Objects)).Args
			if got := slices.Contains(args, "--operation=generate"); got != tc.generate {
				t.Errorf("--operation=generate present = %v, want %v: %v", got, tc.generate, args)
			}
		})
	}
}

func nested(obj map[string]any, path ...string) (any, bool, error) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		if cur, ok = m[p]; !ok {
			return nil, false, nil
		}
	}
	return cur, true, nil
}
