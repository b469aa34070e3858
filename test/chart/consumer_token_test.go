package chart_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestConsumerAPIToken: consumer.apiTokenSecret mounts the Secret's key as
// the file --api-token-file reads; without it there is neither.
func TestConsumerAPIToken(t *testing.T) {
	const base = "audit: {enablePubsub: true}\nconsumer:\n  enabled: true\n"
	for _, tc := range []struct {
		name, values   string
		secret, key    string
		wantErrContain string
	}{
		{name: "none", values: base},
		{name: "a Secret", values: base + "  apiTokenSecret: {name: api-token, key: bearer}\n", secret: "api-token", key: "bearer"},
		{name: "bad name", values: base + "  apiTokenSecret: {name: API_Token, key: t}\n", wantErrContain: "apiTokenSecret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := renderValues(t, tc.values)
			if tc.wantErrContain != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrContain) {
					t.Fatalf("error %v, want it to name %s", err, tc.wantErrContain)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var d appsv1.Deployment
			for _, o := range find(objs, "Deployment") {
				if o.Name() == "violations" {
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Obj, &d); err != nil {
						t.Fatal(err)
					}
				}
			}
			if d.Name == "" {
				t.Fatal("no Deployment violations")
			}
			c := d.Spec.Template.Spec.Containers[0]
			hasFlag := slices.Contains(c.Args, "--api-token-file=/etc/violations/api-token/token")
			var mounted, fromSecret bool
			for _, m := range c.VolumeMounts {
				mounted = mounted || (m.Name == "api-token" && m.MountPath == "/etc/violations/api-token" && m.ReadOnly)
			}
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == "api-token" && v.Secret != nil && v.Secret.SecretName == tc.secret && len(v.Secret.Items) == 1 &&
					v.Secret.Items[0].Key == tc.key && v.Secret.Items[0].Path == "token" {
					fromSecret = true
				}
			}
			want := tc.secret != ""
			if hasFlag != want || mounted != want || fromSecret != want {
				t.Fatalf("flag %v, mount %v, volume from Secret %s/%s %v; want all %v", hasFlag, mounted, tc.secret, tc.key, fromSecret, want)
			}
			for _, p := range []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path} {
				if p != "/readyz" && p != "/healthz" {
					t.Errorf("probe on %s, which the token guards", p)
				}
			}
		})
	}
}
