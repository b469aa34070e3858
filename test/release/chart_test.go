package release_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/registry"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// registryClient is Helm's OCI registry client as `helm pull --plain-http`
// makes it, with its own empty credentials file.
func registryClient(t *testing.T) *registry.Client {
	t.Helper()
	c, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard),
		registry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "registry.json")))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// helmSettings are Helm's CLI settings with every directory in t's
// temporary directory.
func helmSettings(t *testing.T) *cli.EnvSettings {
	t.Helper()
	dir := t.TempDir()
	s := cli.New()
	s.RepositoryCache = filepath.Join(dir, "cache")
	s.RepositoryConfig = filepath.Join(dir, "repositories.yaml")
	s.RegistryConfig = filepath.Join(dir, "registry.json")
	return s
}

// TestChartFromOCI pulls the chart back from oci:// with Helm's registry
// client and with `helm pull`'s code (ChartPathOptions.LocateChart), and
// renders it: the version is the release's, appVersion stays the default
// Gatekeeper, and the test pod and the subscriber use the pushed images by
// digest.
func TestChartFromOCI(t *testing.T) {
	f := released(t)
	ref := strings.TrimPrefix(f.res.Chart.Ref, "oci://") + ":" + version.Version
	pulled, err := registryClient(t).Pull(ref)
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if pulled.Manifest.Digest != f.res.Chart.Digest {
		t.Errorf("pulled manifest %s, the release pushed %s", pulled.Manifest.Digest, f.res.Chart.Digest)
	}
	local, err := os.ReadFile(f.res.Chart.File)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pulled.Chart.Data, local) {
		t.Errorf("the pulled chart differs from the packaged %s", f.res.Chart.File)
	}
	c, err := loader.LoadArchive(bytes.NewReader(pulled.Chart.Data))
	if err != nil {
		t.Fatal(err)
	}
	src, err := chartutil.LoadChartfile(filepath.Join(repoRoot(t), "charts", "gatekeeper-pubsub", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Metadata.Version != version.Version || c.Metadata.AppVersion != src.AppVersion {
		t.Errorf("chart version %s appVersion %s, want %s and %s", c.Metadata.Version, c.Metadata.AppVersion, version.Version, src.AppVersion)
	}
	send, sub, consumer := f.image(t, "pubsub-send"), f.image(t, "fake-subscriber"), f.image(t, "violations")
	for _, img := range f.res.Images {
		if !strings.Contains(c.Metadata.Annotations["artifacthub.io/images"], img.Ref()) {
			t.Errorf("artifacthub.io/images does not list %s:\n%s", img.Ref(), c.Metadata.Annotations["artifacthub.io/images"])
		}
	}

	// `helm install oci://...` finds the chart the same way.
	settings := helmSettings(t)
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.SetRegistryClient(registryClient(t))
	inst.ChartPathOptions.Version = version.Version
	inst.ChartPathOptions.PlainHTTP = true
	path, err := inst.ChartPathOptions.LocateChart(f.res.Chart.Ref, settings)
	if err != nil {
		t.Fatalf("locating %s: %v", f.res.Chart.Ref, err)
	}
	located, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if located.Metadata.Version != version.Version {
		t.Errorf("located chart version %s", located.Metadata.Version)
	}

	for _, c := range []struct {
		name    string
		vals    map[string]any
		pod     string // the test pod's image
		sub     string // the subscriber's image, "" when off
		subPull corev1.PullPolicy
	}{
		{"pinned", map[string]any{"audit": map[string]any{"enablePubsub": true, "deploy": true}, "subscriber": map[string]any{"enabled": true},
			"consumer": map[string]any{"enabled": true, "appId": "violations"}},
			send.Ref(), sub.Ref(), corev1.PullIfNotPresent},
		{"tag overridden", map[string]any{"audit": map[string]any{"enablePubsub": true, "deploy": true}, "tests": map[string]any{"image": map[string]any{"tag": "dev"}}},
			send.Repository + ":dev", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			pod, deps := renderOCIChart(t, located, c.vals)
			if pod == nil {
				t.Fatal("no helm test pod rendered")
			}
			if got := pod.Spec.Containers[0].Image; got != c.pod {
				t.Errorf("test pod image %s, want %s", got, c.pod)
			}
			if c.sub == "" {
				return
			}
			for name, want := range map[string]string{"sub": c.sub, "violations": consumer.Ref()} {
				dep := deps[name]
				if dep == nil {
					t.Fatalf("no Deployment %s rendered", name)
				}
				ct := dep.Spec.Template.Spec.Containers[0]
				if ct.Image != want || ct.ImagePullPolicy != c.subPull {
					t.Errorf("Deployment %s: image %s (%s), want %s (%s)", name, ct.Image, ct.ImagePullPolicy, want, c.subPull)
				}
			}
		})
	}
	// The source chart keeps its defaults: only the package is pinned.
	if !strings.Contains(f.res.Chart.Values["tests.image.tag"], "@"+send.Digest) {
		t.Errorf("pins %v do not hold pubsub-send's digest", f.res.Chart.Values)
	}
	if err := release.CheckChartVersion(filepath.Join(repoRoot(t), "charts", "gatekeeper-pubsub"), version.Version); err != nil {
		t.Error(err)
	}
}

// renderOCIChart renders c client-side as `helm template` does and returns
// the helm test pod and the Deployments by name.
func renderOCIChart(t *testing.T, c *chart.Chart, vals map[string]any) (*corev1.Pod, map[string]*appsv1.Deployment) {
	t.Helper()
	rel, err := templateInstall(t).Run(c, vals)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	var pod *corev1.Pod
	deps := map[string]*appsv1.Deployment{}
	docs := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		docs = append(docs, h.Manifest)
	}
	for _, d := range docs {
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(d), 4096)
		for {
			var obj struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			raw := map[string]any{}
			if err := dec.Decode(&raw); err != nil {
				break
			}
			b, _ := json.Marshal(raw)
			_ = json.Unmarshal(b, &obj)
			switch {
			case obj.Kind == "Pod" && strings.HasSuffix(obj.Metadata.Name, "-test-publish"):
				pod = new(corev1.Pod)
				if err := json.Unmarshal(b, pod); err != nil {
					t.Fatal(err)
				}
			case obj.Kind == "Deployment":
				dep := new(appsv1.Deployment)
				if err := json.Unmarshal(b, dep); err != nil {
					t.Fatal(err)
				}
				deps[obj.Metadata.Name] = dep
			}
		}
	}
	return pod, deps
}
