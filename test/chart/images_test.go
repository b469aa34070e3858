package chart_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestGatekeeperImage: the audit's image is [registry/]repository:tag
// [@digest] from image.*, and a digest stays with its tag.
func TestGatekeeperImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name      string
		set       []string
		want      string // the manager's image
		wantError []string
	}{
		{name: "audit deployed", want: "openpolicyagent/gatekeeper:v3.18.3"},
		{name: "registry", set: []string{"image.registry=mirror.example:5000/hub"}, want: "mirror.example:5000/hub/openpolicyagent/gatekeeper:v3.18.3"},
		{name: "registry, tag and digest", set: []string{"image.registry=mirror.example", "image.release=v3.18.3", "image.digest=" + digest},
			want: "mirror.example/openpolicyagent/gatekeeper:v3.18.3@" + digest},
		{name: "version follows", set: []string{"gatekeeperVersion=v3.20.0", "image.registry=mirror.example"}, want: "mirror.example/openpolicyagent/gatekeeper:v3.20.0"},
		{name: "digest without its tag", set: []string{"image.digest=" + digest},
			wantError: []string{"image.digest " + digest + " needs image.release", "image.release=v3.18.3"}},
		{name: "pinned tag and another version", set: []string{"gatekeeperVersion=v3.17.0", "image.release=v3.18.3", "image.digest=" + digest},
			wantError: []string{"image.release v3.18.3 differs from gatekeeperVersion v3.17.0", "image.digest pins the image of v3.18.3", "image.digest empty"}},
		{name: "digest not sha256", set: []string{"image.release=v3.18.3", "image.digest=sha256:abc"}, wantError: []string{"/image/digest"}},
		{name: "registry with a scheme", set: []string{"image.registry=https://mirror.example"}, wantError: []string{"/image/registry"}},
		{name: "registry with a trailing slash", set: []string{"image.registry=mirror.example/"}, wantError: []string{"/image/registry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The chart runs the audit (audit.deploy) whatever the default.
			set := append([]string{"audit.deploy=true"}, tt.set...)
			objs, err := render.Chart(context.Background(), chartDir, valueSet{name: tt.name, set: set}.options(false))
			if len(tt.wantError) > 0 {
				if err == nil {
					t.Fatalf("values %q rendered without error", tt.set)
				}
				for _, w := range tt.wantError {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not contain %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := manager(t, auditDeployment(t, objs)).Image; got != tt.want {
				t.Errorf("manager image %q, want %q", got, tt.want)
			}
		})
	}
}
