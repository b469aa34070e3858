package release

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root user every image runs as (distroless' "nonroot").
const (
	UID      = 65532
	GID      = 65532
	UserName = "nonroot"
	// User is the images' config User.
	User = "65532:65532"
	// CACertsPath is where the base image (and Debian) keep the CA bundle.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// DefaultPath is the base image's PATH; ko appends /ko-app, where it
	// puts the command, so a pod's `command: [pubsub-send]` finds it.
	DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Platforms are the images' platforms: Go cross-compiles both with
// CGO_ENABLED=0.
var Platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
}

// PlatformString is p as ko's --platform takes it: linux/arm64/v8.
func PlatformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// BaseOptions describe the base image.
type BaseOptions struct {
	// CACerts is the CA bundle written to CACertsPath.
	CACerts []byte
	// Labels go into every platform's config (OCI image labels).
	Labels map[string]string
	// Created is the config's and the files' time (SOURCE_DATE_EPOCH,
	// else the Unix epoch: the same inputs give the same digest).
	Created time.Time
	// Platforms, default Platforms.
	Platforms []v1.Platform
}

// baseFile is one entry of the base layer.
type baseFile struct {
	Name     string
	Mode     int64
	UID, GID int
	Dir      bool
	Data     []byte
}

// baseFiles is the whole base layer: scratch plus the CA bundle, the
// non-root user in /etc/passwd and /etc/group, its home, /tmp (a mount
// point for an emptyDir when the root file system is read-only) and an
// nsswitch.conf so Go's resolver reads /etc/hosts first.
func baseFiles(caCerts []byte) []baseFile {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", UserName, UID, GID, UserName, UserName)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, GID)
	return []baseFile{
		{Name: "etc/", Mode: 0o755, Dir: true},
		{Name: "etc/group", Mode: 0o644, Data: []byte(group)},
		{Name: "etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte(passwd)},
		{Name: "etc/ssl/", Mode: 0o755, Dir: true},
		{Name: "etc/ssl/certs/", Mode: 0o755, Dir: true},
		{Name: strings.TrimPrefix(CACertsPath, "/"), Mode: 0o644, Data: caCerts},
		{Name: "home/", Mode: 0o755, Dir: true},
		{Name: "home/" + UserName + "/", Mode: 0o700, UID: UID, GID: GID, Dir: true},
		{Name: "tmp/", Mode: 0o1777, Dir: true},
	}
}

// baseLayer is the tar of files, with fixed times and owners.
func baseLayer(files []baseFile, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: mtime, Format: tar.FormatPAX}
		if f.Dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("base layer %s: %w", f.Name, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("base layer %s: %w", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	return buf.Bytes(), nil
}

// BaseIndex builds the base image, one OCI image per platform sharing one
// layer, in an OCI index: what ko builds on (its defaultBaseImage).
func BaseIndex(opts BaseOptions) (v1.ImageIndex, error) {
	if len(opts.CACerts) == 0 {
		return nil, fmt.Errorf("base image: no CA certificates (%s)", CACertsPath)
	}
	platforms := opts.Platforms
	if len(platforms) == 0 {
		platforms = Platforms
	}
	created := opts.Created.UTC()
	if opts.Created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}
	tarBytes, err := baseLayer(baseFiles(opts.CACerts), created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
			Created: v1.Time{Time: created}, CreatedBy: "gatekeeper-pubsub release: scratch, CA certificates, user " + User,
		}})
		if err != nil {
			return nil, fmt.Errorf("base image %s: %w", PlatformString(p), err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("base image %s: %w", PlatformString(p), err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		cf.Created = v1.Time{Time: created}
		cf.Config = v1.Config{
			User:       User,
			WorkingDir: "/home/" + UserName,
			Env:        []string{"PATH=" + DefaultPath, "SSL_CERT_FILE=" + CACertsPath},
			Labels:     copyLabels(opts.Labels),
		}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return nil, fmt.Errorf("base image %s: %w", PlatformString(p), err)
		}
		pl := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pl}})
	}
	return idx, nil
}

func copyLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// LayerFiles lists a layer's entries (name, mode, owner, size), sorted,
// for tests and for looking into a pulled image. It lists the one layer as
// written (names unchanged, whiteouts included), so it reads the layer's tar
// itself rather than mutate.Extract, which flattens a whole image.
func LayerFiles(l v1.Layer) ([]tar.Header, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, fmt.Errorf("reading layer: %w", err)
	}
	defer rc.Close()
	var out []tar.Header
	err = eachEntry(rc, func(h *tar.Header, _ io.Reader) (bool, error) {
		out = append(out, *h)
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading layer: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReadFile returns the content of file name (an absolute path in the image)
// from the image's flattened file system (mutate.Extract: the topmost
// layer's entry wins, whiteouts hide lower layers).
func ReadFile(img v1.Image, name string) ([]byte, error) {
	want := strings.TrimPrefix(path.Clean(name), "/")
	rc := mutate.Extract(img)
	defer rc.Close()
	var (
		data  []byte
		found bool
	)
	err := eachEntry(rc, func(h *tar.Header, r io.Reader) (bool, error) {
		if strings.TrimPrefix(path.Clean(h.Name), "/") != want || h.Typeflag != tar.TypeReg {
			return false, nil
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return true, fmt.Errorf("reading %s: %w", name, err)
		}
		data, found = b, true
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading image: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("%s: not in the image", name)
	}
	return data, nil
}

// eachEntry calls fn with every entry of the tar stream r, and the reader of
// its content, until fn says stop or returns an error.
func eachEntry(r io.Reader, fn func(h *tar.Header, content io.Reader) (stop bool, err error)) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		stop, err := fn(h, tr)
		if err != nil || stop {
			return err
		}
	}
}
