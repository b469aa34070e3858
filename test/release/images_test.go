package release_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// wantPlatforms are the platforms of every image (ko names arm64 by the
// base's variant).
var wantPlatforms = []string{"linux/amd64", "linux/arm64/v8"}

// TestImages pulls each image back by its pinned reference and checks what
// a runtime would run: an OCI index of both platforms, the tag pointing at
// the same index, and per platform the non-root user, ko's entrypoint, PATH
// finding the command (the chart's test pod runs `command: [pubsub-send]`),
// the OCI labels, the base layer (CA bundle, /etc/passwd, no shell), a
// static binary for the platform's architecture, and ko's SPDX SBOM.
func TestImages(t *testing.T) {
	f := released(t)
	for _, c := range []struct {
		name string
		// module is a dependency the command's SBOM must list.
		module string
	}{
		{"pubsub-send", "github.com/dapr/go-sdk"},
		// Its own net/http server now; the connection schemas it links.
		{"fake-subscriber", "github.com/santhosh-tekuri/jsonschema/v6"},
		{"pubsub-lint", "helm.sh/helm/v3"},
		{"violations", "modernc.org/sqlite"},
		{"pubsub-forward", "github.com/dapr/go-sdk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := f.image(t, c.name)
			ref, err := name.ParseReference(img.Ref())
			if err != nil {
				t.Fatal(err)
			}
			idx, err := remote.Index(ref)
			if err != nil {
				t.Fatalf("pulling %s: %v", ref, err)
			}
			if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
				t.Errorf("index media type %s, want %s", mt, types.OCIImageIndex)
			}
			tagged, err := remote.Head(mustRef(t, img.Repository+":"+version.Version))
			if err != nil {
				t.Fatalf("tag %s: %v", version.Version, err)
			}
			if tagged.Digest.String() != img.Digest {
				t.Errorf("tag %s is %s, the release pinned %s", version.Version, tagged.Digest, img.Digest)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var platforms []string
			for _, d := range im.Manifests {
				if d.Platform == nil {
					t.Errorf("index entry %s has no platform", d.Digest)
					continue
				}
				p := release.PlatformString(*d.Platform)
				platforms = append(platforms, p)
				t.Run(p, func(t *testing.T) {
					m, err := idx.Image(d.Digest)
					if err != nil {
						t.Fatal(err)
					}
					checkImage(t, c.name, *d.Platform, m)
					checkSBOM(t, img.Repository, d.Digest, "github.com/gatekeeper-pubsub/gatekeeper-pubsub", c.module, f.res.Base.Repository)
				})
			}
			slices.Sort(platforms)
			if !slices.Equal(platforms, wantPlatforms) {
				t.Errorf("platforms %v, want %v", platforms, wantPlatforms)
			}
			h, err := v1.NewHash(img.Digest)
			if err != nil {
				t.Fatal(err)
			}
			// The index's own SBOM lists the platform images.
			var digests []string
			for _, d := range im.Manifests {
				digests = append(digests, d.Digest.String())
			}
			checkSBOM(t, img.Repository, h, digests...)
		})
	}
}

func checkImage(t *testing.T, cmd string, p v1.Platform, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != p.OS || cf.Architecture != p.Architecture {
		t.Errorf("config platform %s/%s, index says %s", cf.OS, cf.Architecture, release.PlatformString(p))
	}
	cfg := cf.Config
	if cfg.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532", cfg.User)
	}
	if want := []string{"/ko-app/" + cmd}; !slices.Equal(cfg.Entrypoint, want) {
		t.Errorf("Entrypoint %q, want %q", cfg.Entrypoint, want)
	}
	if len(cfg.Cmd) != 0 {
		t.Errorf("Cmd %q, want none", cfg.Cmd)
	}
	env := map[string]string{}
	for _, e := range cfg.Env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	if !slices.Contains(strings.Split(env["PATH"], ":"), "/ko-app") {
		t.Errorf("PATH %q does not hold /ko-app: `command: [%s]` would not be found", env["PATH"], cmd)
	}
	if env["SSL_CERT_FILE"] != release.CACertsPath {
		t.Errorf("SSL_CERT_FILE %q, want %s", env["SSL_CERT_FILE"], release.CACertsPath)
	}
	if len(cfg.Volumes) != 0 {
		t.Errorf("Volumes %v: a read-only root needs none", cfg.Volumes)
	}
	for k, want := range map[string]string{
		release.LabelSource:   release.Source,
		release.LabelVersion:  version.Version,
		release.LabelLicenses: release.DefaultLicense,
		release.LabelTitle:    cmd,
	} {
		if got := cfg.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	// The files: the base layer's and ko's.
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, l := range layers {
		hs, err := release.LayerFiles(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			n := "/" + strings.TrimPrefix(strings.TrimSuffix(h.Name, "/"), "/")
			files[n] = true
			if n == "/ko-app/"+cmd && h.Mode&0o005 != 0o005 {
				t.Errorf("%s mode %o: others (uid 65532) cannot run it", n, h.Mode)
			}
		}
	}
	for _, want := range []string{release.CACertsPath, "/etc/passwd", "/etc/group", "/tmp", "/home/nonroot", "/ko-app/" + cmd} {
		if !files[want] {
			t.Errorf("image has no %s", want)
		}
	}
	for _, shell := range []string{"/bin/sh", "/bin/bash", "/usr/bin/env"} {
		if files[shell] {
			t.Errorf("image has %s: the images hold no shell", shell)
		}
	}
	passwd, err := release.ReadFile(img, "/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(passwd), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", passwd)
	}
	bin, err := release.ReadFile(img, "/ko-app/"+cmd)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("/ko-app/%s is not an ELF binary: %v", cmd, err)
	}
	wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.Architecture]
	if ef.Machine != wantMachine {
		t.Errorf("/ko-app/%s is for %s, want %s", cmd, ef.Machine, wantMachine)
	}
	for _, prog := range ef.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Errorf("/ko-app/%s is dynamically linked (CGO): a scratch image has no loader", cmd)
		}
	}
}

// checkSBOM pulls the SBOM ko attached to digest (tag sha256-HEX.sbom) and
// requires SPDX 2.3 JSON naming each of want.
func checkSBOM(t *testing.T, repository string, digest v1.Hash, want ...string) {
	t.Helper()
	tag := repository + ":" + digest.Algorithm + "-" + digest.Hex + ".sbom"
	img, err := remote.Image(mustRef(t, tag))
	if err != nil {
		t.Errorf("SBOM %s: %v", tag, err)
		return
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("SBOM %s: %d layers, %v", tag, len(layers), err)
	}
	if mt, _ := layers[0].MediaType(); mt != "text/spdx+json" {
		t.Errorf("SBOM %s media type %s, want text/spdx+json", tag, mt)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("SBOM %s: %v", tag, err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("SBOM %s spdxVersion %q", tag, doc.SPDXVersion)
	}
	var names []string
	for _, p := range doc.Packages {
		names = append(names, p.Name)
	}
	for _, w := range want {
		found := false
		for _, n := range names {
			if strings.Contains(n, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("SBOM %s lists no package %s (it has %d: %.300v)", tag, w, len(names), names)
		}
	}
}

// TestBaseImagePushedFirst: the base image is in the registry under the
// release's tag, both platforms, and every image's first layer is its layer.
func TestBaseImagePushedFirst(t *testing.T) {
	f := released(t)
	base := f.res.Base
	idx, err := remote.Index(mustRef(t, base.Repository+":"+version.Version))
	if err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil || d.String() != base.Digest {
		t.Fatalf("base tag is %s (%v), the release used %s", d, err, base.Digest)
	}
	baseImg, err := idx.Image(mustHash(t, base.Platforms[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	bl, err := baseImg.Layers()
	if err != nil || len(bl) != 1 {
		t.Fatalf("base image layers: %d, %v", len(bl), err)
	}
	want, _ := bl[0].Digest()
	for _, img := range f.res.Images {
		m, err := remote.Image(mustRef(t, img.Repository+"@"+img.Platforms[0].Digest))
		if err != nil {
			t.Fatal(err)
		}
		ls, err := m.Layers()
		if err != nil || len(ls) == 0 {
			t.Fatalf("%s: layers %v", img.Name, err)
		}
		if got, _ := ls[0].Digest(); got != want {
			t.Errorf("%s's first layer %s, want the base layer %s", img.Name, got, want)
		}
	}
}

// TestPubsubLintFromImage takes the pubsub-lint binary out of the pulled
// image for this machine's platform and runs it: it reports the release's
// version and finds the broken connection config.
func TestPubsubLintFromImage(t *testing.T) {
	f := released(t)
	bin := extractBinary(t, f.image(t, "pubsub-lint"), "pubsub-lint")
	out, code := runCmd(t, t.TempDir(), os.Environ(), bin, "version")
	if code != 0 || !strings.HasPrefix(out, "pubsub-lint "+version.Version+"\n") {
		t.Fatalf("pubsub-lint version: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"broken.yaml", "--format", "github"}, 1, "::error file=broken.yaml,line=11,col=19,title=connection-config-json::"},
		{[]string{"broken.yaml", "--fail-on", "none"}, 0, "connection-config-json"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(repoRoot(t), "test", "release", "testdata", "broken", "broken.yaml"), filepath.Join(dir, "broken.yaml"))
			out, code := runCmd(t, dir, os.Environ(), bin, c.args...)
			if code != c.wantCode || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, want %d; output should contain %q:\n%s", code, c.wantCode, c.want, out)
			}
		})
	}
}

// extractBinary writes /ko-app/cmd of the image's platform for this
// machine to a temporary file.
func extractBinary(t *testing.T, img release.Image, cmd string) string {
	t.Helper()
	var digest string
	for _, p := range img.Platforms {
		if p.Platform == "linux/"+runtime.GOARCH || strings.HasPrefix(p.Platform, "linux/"+runtime.GOARCH+"/") {
			digest = p.Digest
		}
	}
	if runtime.GOOS != "linux" || digest == "" {
		t.Fatalf("%s has no image for %s/%s: the release builds Linux images only, so make test runs on Linux on one of its architectures", img.Name, runtime.GOOS, runtime.GOARCH)
	}
	m, err := remote.Image(mustRef(t, img.Repository+"@"+digest))
	if err != nil {
		t.Fatal(err)
	}
	b, err := release.ReadFile(m, "/ko-app/"+cmd)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), cmd)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestReleaseReproducible releases the same sources again: the base image
// and every image get the same digests (fixed times, ko's -trimpath), so a
// release can be rebuilt and checked.
func TestReleaseReproducible(t *testing.T) {
	f := released(t)
	ko, err := procs.ToolPath("ko", "KO")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	again, err := release.Run(ctx, release.Options{
		Registry: f.reg.Addr, Version: version.Version, Root: repoRoot(t), Ko: ko, OutDir: t.TempDir(),
		GatekeeperImage: f.gatekeeper,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range append([]release.Image{f.res.Base}, f.res.Images...) {
		other := again.Base
		if i > 0 {
			other = again.Images[i-1]
		}
		if other.Name != img.Name || other.Digest != img.Digest {
			t.Errorf("%s: second release %s %s, first %s", img.Name, other.Name, other.Digest, img.Digest)
		}
	}
	if again.Gatekeeper == nil || f.res.Gatekeeper == nil || again.Gatekeeper.Ref() != f.res.Gatekeeper.Ref() {
		t.Errorf("gatekeeper pinned as %v, first %v", again.Gatekeeper, f.res.Gatekeeper)
	}
	if again.CACertificates != f.res.CACertificates {
		t.Errorf("CA bundle %+v, first %+v", again.CACertificates, f.res.CACertificates)
	}
}
