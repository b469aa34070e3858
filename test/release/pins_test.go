package release_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// pinnedRef is a fully qualified reference pinned by digest: a registry
// host (a dot or a port in the first part, or localhost), a path, a tag
// and a sha256 digest.
var pinnedRef = regexp.MustCompile(`^(localhost|[^/]*[.:][^/]*)/[^@\s]+:[^@/\s]+@sha256:[0-9a-f]{64}$`)

// TestPackagedChartPinsEveryImage renders the packaged chart (the one
// TestChartFromOCI pulls back from the registry) with every workload on
// (audit, sample subscriber, consumer, helm test pod; then the disk
// export's pubsub-forward) and checks every container's image: fully
// qualified, pinned by digest, one the release pushed or pinned, and
// pulled back from the registry at that digest.
func TestPackagedChartPinsEveryImage(t *testing.T) {
	f := released(t)
	if f.res.Gatekeeper == nil {
		t.Fatal("the release pinned no Gatekeeper image")
	}
	c, err := loader.Load(f.res.Chart.File)
	if err != nil {
		t.Fatal(err)
	}
	if c.Metadata.Version != version.Version {
		t.Fatalf("packaged chart version %s, want %s", c.Metadata.Version, version.Version)
	}
	known := map[string]bool{f.res.Gatekeeper.Ref(): true}
	for _, img := range f.res.Images {
		known[img.Ref()] = true
	}
	if want := f.gatekeeper + "@" + f.res.Gatekeeper.Digest; f.res.Gatekeeper.Ref() != want {
		t.Errorf("gatekeeper pinned as %s, want %s (the stand-in pushed before the release)", f.res.Gatekeeper.Ref(), want)
	}
	if !strings.Contains(c.Metadata.Annotations["artifacthub.io/images"], f.res.Gatekeeper.Ref()) {
		t.Errorf("artifacthub.io/images does not list %s:\n%s", f.res.Gatekeeper.Ref(), c.Metadata.Annotations["artifacthub.io/images"])
	}

	for _, tc := range []struct {
		name string
		vals map[string]any
		// skip is a container whose image the values replace.
		skip string
		// want are the containers that must be there.
		want []string
	}{
		{name: "every workload", vals: map[string]any{"audit": map[string]any{"enablePubsub": true, "deploy": true}, "subscriber": map[string]any{"enabled": true},
			"consumer": map[string]any{"enabled": true, "appId": "violations"}},
			want: []string{"gatekeeper-audit/manager", "sub/go-sub", "violations/violations", "test/pubsub-send"}},
		// The disk export needs Gatekeeper v3.20+, another tag than the
		// pinned one: its digest is set aside as the chart asks.
		{name: "disk export", vals: map[string]any{"audit": map[string]any{"enablePubsub": true, "deploy": true, "exportBackend": "disk"}, "gatekeeperVersion": "v3.23.1",
			"image": map[string]any{"release": "v3.23.1", "digest": ""}},
			skip: "gatekeeper-audit/manager", want: []string{"gatekeeper-audit/pubsub-forward", "test/pubsub-send"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod, deps := renderOCIChart(t, c, tc.vals)
			containers := map[string]corev1.Container{}
			if pod != nil {
				for _, ct := range pod.Spec.Containers {
					containers["test/"+ct.Name] = ct
				}
			}
			for dn, d := range deps {
				for _, ct := range append(append([]corev1.Container{}, d.Spec.Template.Spec.InitContainers...), d.Spec.Template.Spec.Containers...) {
					containers[dn+"/"+ct.Name] = ct
				}
			}
			for _, w := range tc.want {
				if _, ok := containers[w]; !ok {
					t.Errorf("no container %s rendered (have %v)", w, keysOf(containers))
				}
			}
			for cn, ct := range containers {
				if cn == tc.skip {
					continue
				}
				if !pinnedRef.MatchString(ct.Image) {
					t.Errorf("container %s: image %q is not registry/path:tag@sha256:<digest>", cn, ct.Image)
					continue
				}
				if !known[ct.Image] {
					t.Errorf("container %s: image %s is none the release pushed or pinned", cn, ct.Image)
				}
				if err := pullsAtDigest(context.Background(), ct.Image); err != nil {
					t.Errorf("container %s: %v", cn, err)
				}
			}
		})
	}
}

// pullsAtDigest reads the manifest of repository@digest of a pinned
// reference back from its registry and compares its digest.
func pullsAtDigest(ctx context.Context, image string) error {
	repoTag, digest, _ := strings.Cut(image, "@")
	repo := repoTag[:strings.LastIndex(repoTag, ":")]
	ref, err := name.NewDigest(repo + "@" + digest)
	if err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	if desc.Digest.String() != digest {
		return fmt.Errorf("%s: the registry serves %s", image, desc.Digest)
	}
	return nil
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCABundleRecorded: the base image records its CA bundle's Debian
// package version and digest as labels, which every image built on it
// keeps, and the release's result holds them too.
func TestCABundleRecorded(t *testing.T) {
	f := released(t)
	installed, err := release.DebianPackageVersion(context.Background(), release.CAPackage)
	if err != nil {
		t.Fatal(err)
	}
	ca := f.res.CACertificates
	if ca.Package != release.CAPackage || ca.Version != installed || len(ca.SHA256) != 64 {
		t.Errorf("result's CA bundle %+v, want %s %s with its sha256", ca, release.CAPackage, installed)
	}
	var summary bytes.Buffer
	release.Print(&summary, f.res)
	if want := fmt.Sprintf("%s %s (Debian), sha256:%s", release.CAPackage, installed, ca.SHA256); !strings.Contains(summary.String(), want) {
		t.Errorf("the summary does not say %q:\n%s", want, summary.String())
	}
	for _, img := range append([]release.Image{f.res.Base}, f.res.Images...) {
		for _, p := range img.Platforms {
			m, err := remote.Image(mustRef(t, img.Repository+"@"+p.Digest))
			if err != nil {
				t.Fatal(err)
			}
			cf, err := m.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{release.LabelCACertificates: installed, release.LabelCACertificatesSHA256: ca.SHA256} {
				if got := cf.Config.Labels[k]; got != want {
					t.Errorf("%s %s: label %s = %q, want %q", img.Name, p.Platform, k, got, want)
				}
			}
			// The label is the bundle in the image.
			b, err := release.ReadFile(m, release.CACertsPath)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", sha256Sum(b)); got != ca.SHA256 {
				t.Errorf("%s %s: %s has sha256 %s, the label says %s", img.Name, p.Platform, release.CACertsPath, got, ca.SHA256)
			}
		}
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
