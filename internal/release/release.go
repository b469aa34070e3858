// Package release builds and publishes a release without a Docker engine:
// a base image made here (scratch, CA certificates, the non-root user
// 65532), the commands' multi-arch images built by ko on it (with ko's SPDX
// SBOMs and OCI labels), and the Helm chart packaged with those images
// pinned by digest, pushed as an OCI artifact with Helm's registry client.
// `make release` runs it through hack/release; test/release checks what it
// pushes by pulling it back.
package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release/sign"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// PublicKeyFile is the name of the signing key's public key (PEM) in
// Options.OutDir, next to release.json, when the release was signed.
const PublicKeyFile = "signing-key.pub"

// Repo is the path under the registry that everything is pushed to.
const Repo = "gatekeeper-pubsub"

// Label keys (OCI image annotations used as config labels).
const (
	LabelSource      = "org.opencontainers.image.source"
	LabelVersion     = "org.opencontainers.image.version"
	LabelLicenses    = "org.opencontainers.image.licenses"
	LabelTitle       = "org.opencontainers.image.title"
	LabelDescription = "org.opencontainers.image.description"
	LabelRevision    = "org.opencontainers.image.revision"
	// LabelCACertificates is the Debian package version of the base
	// image's CA bundle (ca-certificates, as dpkg-query reports it), and
	// LabelCACertificatesSHA256 the bundle's SHA-256: the base image's
	// labels, which ko keeps in every image built on it.
	LabelCACertificates       = "dev.gatekeeper-pubsub.ca-certificates.version"
	LabelCACertificatesSHA256 = "dev.gatekeeper-pubsub.ca-certificates.sha256"
)

// CAPackage is the Debian package the base image's CA bundle comes from.
const CAPackage = "ca-certificates"

// Source is the project's source repository (the module path's home).
const Source = version.Repository

// DefaultLicense is the images' org.opencontainers.image.licenses (an SPDX
// expression).
const DefaultLicense = "Apache-2.0"

// Command is one of the project's commands built into an image.
type Command struct {
	// Name is the command and the image's name under Repo.
	Name string
	// Package is its Go import path relative to the module (./cmd/NAME).
	Package     string
	Description string
}

// Commands are the images of a release.
var Commands = []Command{
	{Name: "pubsub-send", Package: "./cmd/pubsub-send", Description: "Sends violations through a Gatekeeper pubsub connection; the chart's helm test pod."},
	{Name: "fake-subscriber", Package: "./cmd/fake-subscriber", Description: "The quick start's subscriber: prints each violation it receives through Dapr."},
	{Name: "violations", Package: "./cmd/violations", Description: "The violations consumer: keeps every audit run's violations in SQLite or PostgreSQL and serves them (API, CLI, metrics)."},
	{Name: "pubsub-forward", Package: "./cmd/pubsub-forward", Description: "The audit's sidecar for Gatekeeper's disk export: sends each audit run's violations through the pod's daprd, with a durable checkpoint."},
	{Name: "pubsub-lint", Package: "./cmd/pubsub-lint", Description: "Checks a Gatekeeper pubsub setup (YAML, Helm charts, kustomize) before it reaches a cluster."},
}

// Options configure a release.
type Options struct {
	// Registry is host[:port][/path] to push to; everything goes under
	// Registry/Repo.
	Registry string
	// Version is the release version (chart version and image tag).
	Version string
	// Root is the repository root (the module's go.mod).
	Root string
	// Ko is the ko binary.
	Ko string
	// CACerts is the CA bundle for the base image; default CACertsPath.
	CACerts string
	// CACertsVersion is the Debian package version of CACerts, recorded
	// in the base image (LabelCACertificates) and the result; default:
	// dpkg-query's version of CAPackage, when CACerts is CACertsPath (the
	// package's file).
	CACertsVersion string
	// GatekeeperImage is the Gatekeeper image the chart's audit runs, as
	// REPOSITORY:TAG with TAG the chart's gatekeeperVersion: its digest is
	// read from its registry and the packaged chart pins it (image.registry,
	// image.repository, image.release, image.digest). Required unless
	// Registry is on loopback (a local release may leave it unpinned).
	GatekeeperImage string
	// OutDir receives the packaged chart and release.json.
	OutDir string
	// License is org.opencontainers.image.licenses; default DefaultLicense.
	License string
	// Revision, when set, is org.opencontainers.image.revision.
	Revision string
	// Created is the time in the base image and the ko layers (ko reads
	// SOURCE_DATE_EPOCH); zero means the Unix epoch, so the same sources
	// give the same digests.
	Created time.Time
	// Commands to build; default Commands.
	Commands []Command
	// SigningKey is a PEM ECDSA P-256 private key file (sign.LoadSigner).
	// With it the base image, every image (its index and each platform's
	// image) and the chart are signed as `cosign sign --key` does (tag
	// sha256-HEX.sig) and get SLSA provenance v1 as `cosign attest --key`
	// attaches it (sha256-HEX.att); empty: nothing is signed.
	SigningKey string
	// SigningKeyPassword is the password of an encrypted (cosign) key;
	// default: $COSIGN_PASSWORD.
	SigningKeyPassword sign.PassFunc
	// Log receives progress (ko's own output included); nil discards it.
	Log io.Writer
}

// Result is what a release pushed.
type Result struct {
	Registry string `json:"registry"`
	Version  string `json:"version"`
	Base     Image  `json:"base"`
	// CACertificates is the base image's CA bundle.
	CACertificates CACertificates `json:"caCertificates"`
	Images         []Image        `json:"images"`
	// Gatekeeper is the Gatekeeper image the chart pins, when
	// Options.GatekeeperImage was given.
	Gatekeeper *Image `json:"gatekeeper,omitempty"`
	Chart      Chart  `json:"chart"`
	// Signing is the key the release was signed with; nil: not signed.
	Signing *Signing `json:"signing,omitempty"`
}

// CACertificates is where the base image's CA bundle comes from.
type CACertificates struct {
	// Package is the Debian package (CAPackage) and Version its version.
	Package string `json:"package"`
	Version string `json:"version"`
	// SHA256 is the bundle's digest, hex.
	SHA256 string `json:"sha256"`
}

// Image is a pushed multi-arch image.
type Image struct {
	Name string `json:"name"`
	// Repository is registry/path/name.
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Digest is the index's digest.
	Digest    string     `json:"digest"`
	Platforms []Platform `json:"platforms"`
	// SBOMs are the refs of the SBOMs ko pushed (index and per platform).
	SBOMs []string `json:"sboms,omitempty"`
	// Signatures are the .sig tags (index and per platform) and
	// Attestations the .att tags (SLSA provenance), when signed.
	Signatures   []string `json:"signatures,omitempty"`
	Attestations []string `json:"attestations,omitempty"`
}

// Ref is the image pinned by digest and still showing its tag:
// repository:tag@sha256:...
func (i Image) Ref() string { return i.Repository + ":" + i.Tag + "@" + i.Digest }

// Platform is one platform's image of an index.
type Platform struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	// Size is what a pull transfers: manifest, config and compressed layers.
	Size int64 `json:"size"`
}

// Chart is the pushed chart.
type Chart struct {
	// Ref is oci://registry/path/charts/name (what helm install takes, with
	// --version Version).
	Ref string `json:"ref"`
	// Tag is the chart version.
	Tag string `json:"tag"`
	// Digest is the OCI manifest's digest.
	Digest string `json:"digest"`
	// Size is the packaged chart's size (the .tgz, the artifact's layer).
	Size int64 `json:"size"`
	// File is the packaged chart on disk.
	File string `json:"file"`
	// Values are the values pinned in the packaged chart.
	Values map[string]string `json:"values"`
	// Signature and Attestation are the chart's .sig and .att tags, when
	// signed.
	Signature   string `json:"signature,omitempty"`
	Attestation string `json:"attestation,omitempty"`
}

// Run builds and pushes the base image, the images and the chart, and
// writes release.json and the chart package into OutDir.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Registry == "" || opts.Version == "" || opts.Root == "" || opts.Ko == "" || opts.OutDir == "" {
		return nil, fmt.Errorf("release: Registry, Version, Root, Ko and OutDir are required")
	}
	if opts.CACerts == "" {
		opts.CACerts = CACertsPath
	}
	if opts.License == "" {
		opts.License = DefaultLicense
	}
	if len(opts.Commands) == 0 {
		opts.Commands = Commands
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Created.IsZero() {
		opts.Created = time.Unix(0, 0)
	}
	reg := strings.TrimSuffix(strings.TrimPrefix(opts.Registry, "oci://"), "/")
	if host, _, _ := strings.Cut(reg, "/"); opts.GatekeeperImage == "" && !IsLoopback(host) {
		return nil, fmt.Errorf("release to %s: the packaged chart pins every image by digest, the Gatekeeper image too; give the Gatekeeper image as REPOSITORY:TAG (hack/release -gatekeeper-image), TAG the chart's gatekeeperVersion", reg)
	}
	res := &Result{Registry: reg, Version: opts.Version}
	started := time.Now()
	// The key is read first: a bad key fails before any build.
	var signer *sign.Signer
	if opts.SigningKey != "" {
		pass := opts.SigningKeyPassword
		if pass == nil {
			pass = sign.PasswordFromEnv("COSIGN_PASSWORD")
		}
		s, err := sign.LoadSigner(opts.SigningKey, pass)
		if err != nil {
			return nil, err
		}
		signer = s
		pub, err := s.PublicKeyPEM()
		if err != nil {
			return nil, err
		}
		res.Signing = &Signing{KeyID: sign.KeyID(s.PublicKey()), PublicKey: string(pub)}
		fmt.Fprintf(opts.Log, ">> signing with %s (key %s)\n", opts.SigningKey, res.Signing.KeyID)
	} else {
		fmt.Fprintf(opts.Log, ">> not signing: no signing key (make release SIGNING_KEY=path, hack/release -signing-key)\n")
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("release output directory: %w", err)
	}
	// The chart is checked first: a version mismatch fails before any build.
	chartDir := filepath.Join(opts.Root, "charts", "gatekeeper-pubsub")
	if err := CheckChartVersion(chartDir, opts.Version); err != nil {
		return nil, err
	}
	if opts.GatekeeperImage != "" {
		want, err := ChartGatekeeperVersion(chartDir)
		if err != nil {
			return nil, err
		}
		gk, err := ResolveGatekeeper(ctx, opts.GatekeeperImage, want)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, ">> gatekeeper image %s\n", gk.Ref())
		res.Gatekeeper = &gk
	} else {
		fmt.Fprintf(opts.Log, ">> gatekeeper image not pinned (a local release; give -gatekeeper-image to pin it)\n")
	}

	certs, err := os.ReadFile(opts.CACerts)
	if err != nil {
		return nil, fmt.Errorf("base image CA certificates: %w (make ca-certificates installs Debian's)", err)
	}
	if res.CACertificates, err = caCertificates(ctx, opts, certs); err != nil {
		return nil, err
	}
	labels := map[string]string{LabelSource: Source, LabelVersion: opts.Version, LabelLicenses: opts.License}
	if opts.Revision != "" {
		labels[LabelRevision] = opts.Revision
	}
	baseLabels := copyLabels(labels)
	baseLabels[LabelCACertificates] = res.CACertificates.Version
	baseLabels[LabelCACertificatesSHA256] = res.CACertificates.SHA256
	fmt.Fprintf(opts.Log, ">> base image: scratch + %s (%s %s) + user %s (%s)\n", CACertsPath, CAPackage, res.CACertificates.Version, User, platformList())
	base, err := BaseIndex(BaseOptions{CACerts: certs, Labels: baseLabels, Created: opts.Created})
	if err != nil {
		return nil, err
	}
	baseRepo := reg + "/" + Repo + "/base"
	baseTag, err := name.NewTag(baseRepo + ":" + opts.Version)
	if err != nil {
		return nil, fmt.Errorf("base image reference: %w", err)
	}
	if err := remote.WriteIndex(baseTag, base, remoteOptions(ctx)...); err != nil {
		return nil, fmt.Errorf("pushing the base image to %s: %w", baseTag, err)
	}
	baseDigest, err := base.Digest()
	if err != nil {
		return nil, fmt.Errorf("base image digest: %w", err)
	}
	if res.Base, err = Describe(ctx, "base", baseRepo, opts.Version, baseDigest.String()); err != nil {
		return nil, err
	}
	var bi *buildInfo
	if signer != nil {
		if bi, err = newBuildInfo(ctx, opts, started); err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, ">> sign and attest %s\n", res.Base.Ref())
		if err := bi.signBase(ctx, signer, res, baseLabels); err != nil {
			return nil, err
		}
	}

	for _, c := range opts.Commands {
		fmt.Fprintf(opts.Log, ">> ko build %s (%s)\n", c.Package, platformList())
		digest, koArgs, koEnv, err := koBuild(ctx, opts, c, reg, res.Base, labels)
		if err != nil {
			return nil, err
		}
		img, err := Describe(ctx, c.Name, reg+"/"+Repo+"/"+c.Name, opts.Version, digest)
		if err != nil {
			return nil, err
		}
		if signer != nil {
			fmt.Fprintf(opts.Log, ">> sign and attest %s\n", img.Ref())
			if err := bi.signCommand(ctx, signer, opts, c, &img, res.Base, labels, koArgs, koEnv); err != nil {
				return nil, err
			}
		}
		res.Images = append(res.Images, img)
	}

	fmt.Fprintf(opts.Log, ">> helm package %s with the images pinned by digest\n", chartDir)
	chartImages := res.Images
	if res.Gatekeeper != nil {
		chartImages = append(append([]Image{}, res.Images...), *res.Gatekeeper)
	}
	pins := ChartPins(chartImages)
	file, err := PackageChart(chartDir, opts.Version, pins, chartImages, opts.OutDir)
	if err != nil {
		return nil, err
	}
	chartRepo := reg + "/" + Repo + "/charts"
	fmt.Fprintf(opts.Log, ">> helm push %s oci://%s\n", file, chartRepo)
	if res.Chart, err = PushChart(file, chartRepo, opts.Log); err != nil {
		return nil, err
	}
	res.Chart.Values = pins
	if signer != nil {
		fmt.Fprintf(opts.Log, ">> sign and attest %s@%s\n", res.Chart.Ref, res.Chart.Digest)
		if err := bi.signChart(ctx, signer, res, chartImages); err != nil {
			return nil, err
		}
	}
	if res.Signing != nil {
		if err := os.WriteFile(filepath.Join(opts.OutDir, PublicKeyFile), []byte(res.Signing.PublicKey), 0o644); err != nil {
			return nil, fmt.Errorf("writing the public key: %w", err)
		}
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(opts.OutDir, "release.json"), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("writing release.json: %w", err)
	}
	return res, nil
}

// caCertificates describes the CA bundle: its SHA-256 and the Debian
// package version, Options.CACertsVersion or, for the package's own file,
// what dpkg-query says.
func caCertificates(ctx context.Context, opts Options, certs []byte) (CACertificates, error) {
	sum := sha256.Sum256(certs)
	c := CACertificates{Package: CAPackage, Version: opts.CACertsVersion, SHA256: hex.EncodeToString(sum[:])}
	if c.Version != "" {
		return c, nil
	}
	if filepath.Clean(opts.CACerts) != CACertsPath {
		return c, fmt.Errorf("base image CA certificates %s: not %s of Debian's %s, so its package version is unknown; give Options.CACertsVersion", opts.CACerts, CACertsPath, CAPackage)
	}
	v, err := DebianPackageVersion(ctx, CAPackage)
	if err != nil {
		return c, fmt.Errorf("base image CA certificates: %w (make ca-certificates installs Debian's)", err)
	}
	c.Version = v
	return c, nil
}

// DebianPackageVersion is the installed version of a Debian package, as
// `dpkg-query -W -f '${Version}' PACKAGE` prints it.
func DebianPackageVersion(ctx context.Context, pkg string) (string, error) {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("dpkg-query -W %s: %w", pkg, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("dpkg-query -W %s: no version: the package is not installed", pkg)
	}
	return v, nil
}

// ResolveGatekeeper reads the digest of the Gatekeeper image ref
// (REPOSITORY:TAG) from its registry; TAG must be wantTag, the chart's
// gatekeeperVersion, which the digest is pinned with. The result's
// Repository is fully qualified (the registry's host included).
func ResolveGatekeeper(ctx context.Context, ref, wantTag string) (Image, error) {
	if i := strings.LastIndex(ref, "/"); !strings.Contains(ref[i+1:], ":") || strings.Contains(ref, "@") {
		return Image{}, fmt.Errorf("gatekeeper image %q: want REPOSITORY:TAG, with the tag and no digest", ref)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return Image{}, fmt.Errorf("gatekeeper image %q: %w", ref, err)
	}
	if tag.TagStr() != wantTag {
		return Image{}, fmt.Errorf("gatekeeper image %s: tag %s, but the chart's gatekeeperVersion is %s; give the image of %s", ref, tag.TagStr(), wantTag, wantTag)
	}
	desc, err := remote.Head(tag, remoteOptions(ctx)...)
	if err != nil {
		return Image{}, fmt.Errorf("gatekeeper image %s: reading its digest: %w", ref, err)
	}
	return Image{Name: GatekeeperImageName, Repository: tag.Context().Name(), Tag: tag.TagStr(), Digest: desc.Digest.String()}, nil
}

// GatekeeperImageName is the Gatekeeper image's Name in a Result.
const GatekeeperImageName = "gatekeeper"

func platformList() string {
	var s []string
	for _, p := range Platforms {
		s = append(s, PlatformString(p))
	}
	return strings.Join(s, ", ")
}

// koBuild builds one command with ko onto the base image and returns the
// pushed index's digest, and ko's arguments and the environment it set
// (for the provenance; the temporary --image-refs file left out).
func koBuild(ctx context.Context, opts Options, c Command, reg string, base Image, labels map[string]string) (digest string, koArgs, koEnv []string, err error) {
	refs, err := os.CreateTemp("", "ko-image-refs-")
	if err != nil {
		return "", nil, nil, err
	}
	refs.Close()
	defer os.Remove(refs.Name())
	var platforms []string
	for _, p := range Platforms {
		platforms = append(platforms, p.OS+"/"+p.Architecture)
	}
	args := []string{"build", c.Package,
		"--base-import-paths", "--tags", opts.Version,
		"--platform", strings.Join(platforms, ","),
		"--sbom", "spdx", "--image-refs", refs.Name(),
		"--ldflags", "-s", "--ldflags", "-w",
		"--image-label", LabelTitle + "=" + c.Name,
		"--image-label", LabelDescription + "=" + strings.ReplaceAll(c.Description, ",", ";"),
	}
	for _, k := range sortedKeys(labels) {
		args = append(args, "--image-label", k+"="+labels[k])
	}
	env := []string{
		"KO_DOCKER_REPO=" + reg + "/" + Repo,
		"KO_DEFAULTBASEIMAGE=" + base.Repository + "@" + base.Digest,
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", opts.Created.Unix()),
		"CGO_ENABLED=0",
	}
	for _, a := range args {
		if a != refs.Name() {
			koArgs = append(koArgs, a)
		} else {
			koArgs = koArgs[:len(koArgs)-1] // and its --image-refs
		}
	}
	cmd := exec.CommandContext(ctx, opts.Ko, args...)
	cmd.Dir = opts.Root
	cmd.Env = append(os.Environ(), env...)
	var tail tailBuffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(opts.Log, &tail), io.MultiWriter(opts.Log, &tail)
	if err := cmd.Run(); err != nil {
		return "", nil, nil, fmt.Errorf("ko %s: %w; its last output:\n%s", strings.Join(args, " "), err, tail.String())
	}
	out, err := os.ReadFile(refs.Name())
	if err != nil {
		return "", nil, nil, fmt.Errorf("ko image refs: %w", err)
	}
	// The index first, then each platform's image.
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	ref, err := name.NewDigest(first)
	if err != nil {
		return "", nil, nil, fmt.Errorf("ko printed %q: %w", out, err)
	}
	if want := reg + "/" + Repo + "/" + c.Name; ref.Context().Name() != want {
		return "", nil, nil, fmt.Errorf("ko pushed %s, want repository %s", ref, want)
	}
	return ref.DigestStr(), koArgs, env, nil
}

// Describe reads a pushed index back: each platform's digest and pull size,
// and the SBOMs ko attached (cosign's sha256-HEX.sbom tags).
func Describe(ctx context.Context, imgName, repository, tag, digest string) (Image, error) {
	img := Image{Name: imgName, Repository: repository, Tag: tag, Digest: digest}
	ref, err := name.NewDigest(repository + "@" + digest)
	if err != nil {
		return img, fmt.Errorf("%s: %w", imgName, err)
	}
	idx, err := remote.Index(ref, remoteOptions(ctx)...)
	if err != nil {
		return img, fmt.Errorf("pulling %s: %w", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return img, fmt.Errorf("%s index: %w", ref, err)
	}
	sboms := []v1.Hash{}
	if h, err := v1.NewHash(digest); err == nil {
		sboms = append(sboms, h)
	}
	for _, d := range im.Manifests {
		if d.Platform == nil {
			continue
		}
		m, err := idx.Image(d.Digest)
		if err != nil {
			return img, fmt.Errorf("%s %s: %w", ref, d.Digest, err)
		}
		size, err := PullSize(m)
		if err != nil {
			return img, fmt.Errorf("%s %s: %w", ref, d.Digest, err)
		}
		img.Platforms = append(img.Platforms, Platform{Platform: PlatformString(*d.Platform), Digest: d.Digest.String(), Size: size})
		sboms = append(sboms, d.Digest)
	}
	for _, h := range sboms {
		t := fmt.Sprintf("%s:%s-%s.sbom", repository, h.Algorithm, h.Hex)
		tref, err := name.NewTag(t)
		if err != nil {
			return img, err
		}
		if _, err := remote.Head(tref, remoteOptions(ctx)...); err == nil {
			img.SBOMs = append(img.SBOMs, t)
		}
	}
	return img, nil
}

// PullSize is what pulling the image transfers: its manifest, config and
// compressed layers.
func PullSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, fmt.Errorf("manifest: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, fmt.Errorf("manifest: %w", err)
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

// remoteOptions are go-containerregistry's options: the Docker config's
// credentials (none needed for the loopback registry, which is reached
// over plain HTTP as go-containerregistry does for 127.0.0.1 and
// localhost).
func remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
}

// IsLoopback reports whether host[:port] is on this machine (plain HTTP).
func IsLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tailBuffer keeps the last lines written to it.
type tailBuffer struct{ lines []string }

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.lines = append(t.lines, strings.Split(strings.TrimRight(string(b), "\n"), "\n")...)
	if len(t.lines) > 30 {
		t.lines = t.lines[len(t.lines)-30:]
	}
	return len(b), nil
}

func (t *tailBuffer) String() string { return strings.Join(t.lines, "\n") }
