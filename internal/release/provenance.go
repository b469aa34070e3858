package release

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/mod/modfile"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release/sign"
)

// The SLSA provenance of a release: who built (BuilderID, the release
// command at a version with ko's and Go's versions) and how (a build type
// per kind of artifact).
const (
	BuilderID = Source + "/hack/release"
	// BuildTypeKo: a command built by ko on the base image; the external
	// parameters name the package, the platforms, the labels and the
	// release's version, the internal ones ko's flags and environment.
	BuildTypeKo = Source + "/tree/main/internal/release#ko-build-v1"
	// BuildTypeBase: the base image assembled by internal/release
	// (scratch, the CA bundle, the non-root user).
	BuildTypeBase = Source + "/tree/main/internal/release#base-image-v1"
	// BuildTypeChart: the chart packaged with its images pinned by digest.
	BuildTypeChart = Source + "/tree/main/internal/release#helm-package-v1"
)

// Signing says how a release was signed.
type Signing struct {
	// KeyID is the public key's sha256:HEX (of its PKIX DER).
	KeyID string `json:"keyID"`
	// PublicKey is the public key, PEM: what verifies the release.
	PublicKey string `json:"publicKey"`
}

// buildInfo is what every provenance of one release shares.
type buildInfo struct {
	started      time.Time
	invocationID string
	builder      sign.Builder
	source       sign.ResourceDescriptor
	modules      []sign.ResourceDescriptor
}

// newBuildInfo reads the builder's versions (the release's, ko's, Go's)
// and the module's dependencies (go.mod's requirements with go.sum's
// hashes).
func newBuildInfo(ctx context.Context, opts Options, started time.Time) (*buildInfo, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	b := &buildInfo{started: started.UTC(), invocationID: hex.EncodeToString(id)}
	b.builder = sign.Builder{ID: BuilderID, Version: map[string]string{"release": opts.Version}}
	if v := commandVersion(ctx, opts.Root, opts.Ko, "version"); v != "" {
		b.builder.Version["ko"] = v
	}
	if v := commandVersion(ctx, opts.Root, "go", "env", "GOVERSION"); v != "" {
		b.builder.Version["go"] = v
	}
	b.source = sign.ResourceDescriptor{Name: "source", URI: "git+" + Source}
	if opts.Revision != "" {
		b.source.URI += "@" + opts.Revision
		b.source.Digest = map[string]string{"gitCommit": opts.Revision}
	}
	mods, err := GoModules(opts.Root)
	if err != nil {
		return nil, err
	}
	b.modules = mods
	return b, nil
}

func commandVersion(ctx context.Context, dir, cmd string, args ...string) string {
	c := exec.CommandContext(ctx, cmd, args...)
	c.Dir = dir
	out, err := c.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// GoModules are the module's dependencies as SLSA resolved dependencies:
// each requirement of go.mod as pkg:golang/PATH@VERSION, with go.sum's
// module hash (h1:) as the in-toto digest dirHash (hex), and the toolchain
// go.mod names.
func GoModules(root string) ([]sign.ResourceDescriptor, error) {
	gomod := filepath.Join(root, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	sums, err := goSums(filepath.Join(root, "go.sum"))
	if err != nil {
		return nil, err
	}
	var out []sign.ResourceDescriptor
	if f.Toolchain != nil {
		out = append(out, sign.ResourceDescriptor{Name: "toolchain", URI: "pkg:golang/toolchain@" + f.Toolchain.Name})
	}
	for _, r := range f.Require {
		d := sign.ResourceDescriptor{Name: r.Mod.Path, URI: "pkg:golang/" + r.Mod.Path + "@" + r.Mod.Version}
		if h, ok := sums[r.Mod.Path+" "+r.Mod.Version]; ok {
			d.Digest = map[string]string{"dirHash": h}
		}
		if r.Indirect {
			d.Annotations = map[string]any{"indirect": true}
		}
		out = append(out, d)
	}
	return out, nil
}

// goSums maps "PATH VERSION" to the module's h1: hash as hex.
func goSums(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasSuffix(f[1], "/go.mod") || !strings.HasPrefix(f[2], "h1:") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(f[2], "h1:"))
		if err != nil {
			continue
		}
		out[f[0]+" "+f[1]] = hex.EncodeToString(raw)
	}
	return out, sc.Err()
}

// imageSubjects are an image's index and platform images, as statement
// subjects and as digest references.
func imageSubjects(img Image) ([]sign.Subject, []name.Digest, error) {
	var subs []sign.Subject
	var refs []name.Digest
	for _, d := range append([]string{img.Digest}, platformDigests(img)...) {
		h, err := v1.NewHash(d)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", img.Name, err)
		}
		ref, err := name.NewDigest(img.Repository + "@" + d)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", img.Name, err)
		}
		subs = append(subs, sign.ImageSubject(img.Repository, h))
		refs = append(refs, ref)
	}
	return subs, refs, nil
}

func platformDigests(img Image) []string {
	var out []string
	for _, p := range img.Platforms {
		out = append(out, p.Digest)
	}
	return out
}

func platformStrings() []string {
	var out []string
	for _, p := range Platforms {
		out = append(out, PlatformString(p))
	}
	return out
}

// provenance is the SLSA provenance v1 statement about subjects.
func (b *buildInfo) provenance(subjects []sign.Subject, buildType string, external, internal map[string]any, deps []sign.ResourceDescriptor) (sign.Statement, error) {
	finished := time.Now().UTC()
	started := b.started
	return sign.NewStatement(sign.SLSAProvenanceV1, sign.Provenance{
		BuildDefinition: sign.BuildDefinition{
			BuildType:            buildType,
			ExternalParameters:   external,
			InternalParameters:   internal,
			ResolvedDependencies: deps,
		},
		RunDetails: sign.RunDetails{
			Builder:  b.builder,
			Metadata: &sign.BuildMetadata{InvocationID: b.invocationID, StartedOn: &started, FinishedOn: &finished},
		},
	}, subjects...)
}

func imageDependency(img Image) sign.ResourceDescriptor {
	h, _ := v1.NewHash(img.Digest)
	return sign.ResourceDescriptor{
		Name: img.Name, URI: "oci://" + img.Repository + "@" + img.Digest,
		Digest: map[string]string{h.Algorithm: h.Hex}, MediaType: "application/vnd.oci.image.index.v1+json",
	}
}

// signImage signs img's index and platform images (as `cosign sign
// --recursive`) and attests st to each, and records the tags in img.
func signImage(ctx context.Context, s *sign.Signer, img *Image, st *sign.Statement) error {
	_, refs, err := imageSubjects(*img)
	if err != nil {
		return err
	}
	img.Signatures, img.Attestations = nil, nil
	for _, ref := range refs {
		tag, err := s.SignImage(ctx, ref, remoteOptions(ctx)...)
		if err != nil {
			return fmt.Errorf("signing %s: %w", ref, err)
		}
		img.Signatures = append(img.Signatures, tag.String())
		if st == nil {
			continue
		}
		if tag, err = s.AttestImage(ctx, ref, *st, remoteOptions(ctx)...); err != nil {
			return fmt.Errorf("attesting %s: %w", ref, err)
		}
		img.Attestations = append(img.Attestations, tag.String())
	}
	return nil
}

// signBase signs and attests the base image: built here from the CA
// bundle of a Debian package.
func (b *buildInfo) signBase(ctx context.Context, s *sign.Signer, res *Result, labels map[string]string) error {
	subs, _, err := imageSubjects(res.Base)
	if err != nil {
		return err
	}
	ca := res.CACertificates
	st, err := b.provenance(subs, BuildTypeBase,
		map[string]any{"version": res.Version, "platforms": platformStrings(), "labels": labels, "user": User, "caCertificates": CACertsPath},
		map[string]any{"created": "SOURCE_DATE_EPOCH or the Unix epoch"},
		[]sign.ResourceDescriptor{b.source, {
			Name: ca.Package, URI: "pkg:deb/debian/" + ca.Package + "@" + ca.Version,
			Digest: map[string]string{"sha256": ca.SHA256}, Annotations: map[string]any{"file": CACertsPath},
		}})
	if err != nil {
		return err
	}
	return signImage(ctx, s, &res.Base, &st)
}

// signCommand signs and attests a command's image built by ko with args.
func (b *buildInfo) signCommand(ctx context.Context, s *sign.Signer, opts Options, c Command, img *Image, base Image, labels map[string]string, koArgs, koEnv []string) error {
	subs, _, err := imageSubjects(*img)
	if err != nil {
		return err
	}
	deps := append([]sign.ResourceDescriptor{b.source, imageDependency(base)}, b.modules...)
	st, err := b.provenance(subs, BuildTypeKo,
		map[string]any{"package": c.Package, "version": opts.Version, "registry": opts.Registry, "platforms": platformStrings(), "labels": labels},
		map[string]any{"koArgs": koArgs, "koEnv": koEnv},
		deps)
	if err != nil {
		return err
	}
	return signImage(ctx, s, img, &st)
}

// signChart signs and attests the pushed chart, whose packaged values pin
// images.
func (b *buildInfo) signChart(ctx context.Context, s *sign.Signer, res *Result, images []Image) error {
	repo := strings.TrimPrefix(res.Chart.Ref, "oci://")
	ref, err := name.NewDigest(repo + "@" + res.Chart.Digest)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	h, err := v1.NewHash(res.Chart.Digest)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	deps := []sign.ResourceDescriptor{b.source}
	for _, img := range images {
		deps = append(deps, imageDependency(img))
	}
	st, err := b.provenance([]sign.Subject{sign.ImageSubject(repo, h)}, BuildTypeChart,
		map[string]any{"chart": "charts/gatekeeper-pubsub", "version": res.Version, "values": res.Chart.Values},
		nil, deps)
	if err != nil {
		return err
	}
	tag, err := s.SignImage(ctx, ref, remoteOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("signing %s: %w", ref, err)
	}
	res.Chart.Signature = tag.String()
	if tag, err = s.AttestImage(ctx, ref, st, remoteOptions(ctx)...); err != nil {
		return fmt.Errorf("attesting %s: %w", ref, err)
	}
	res.Chart.Attestation = tag.String()
	return nil
}
