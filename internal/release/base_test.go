package release

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var testCerts = []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")

func TestBaseIndex(t *testing.T) {
	idx, err := BaseIndex(BaseOptions{CACerts: testCerts, Labels: map[string]string{LabelVersion: "1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(Platforms) {
		t.Fatalf("%d manifests, want %d", len(im.Manifests), len(Platforms))
	}
	for i, d := range im.Manifests {
		p := Platforms[i]
		t.Run(PlatformString(p), func(t *testing.T) {
			if d.Platform == nil || !d.Platform.Equals(p) {
				t.Errorf("descriptor platform %v, want %v", d.Platform, p)
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
				t.Errorf("manifest media type %s", mt)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ what, got, want string }{
				{"os", cf.OS, p.OS},
				{"architecture", cf.Architecture, p.Architecture},
				{"variant", cf.Variant, p.Variant},
				{"user", cf.Config.User, "65532:65532"},
				{"workdir", cf.Config.WorkingDir, "/home/nonroot"},
				{"env", strings.Join(cf.Config.Env, " "), "PATH=" + DefaultPath + " SSL_CERT_FILE=" + CACertsPath},
				{"label", cf.Config.Labels[LabelVersion], "1.2.3"},
				{"created", cf.Created.UTC().Format(time.RFC3339), "1970-01-01T00:00:00Z"},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestBaseLayerFiles(t *testing.T) {
	idx, err := BaseIndex(BaseOptions{CACerts: testCerts})
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	if mt, _ := layers[0].MediaType(); mt != types.OCILayer {
		t.Errorf("layer media type %s", mt)
	}
	hs, err := LayerFiles(layers[0])
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tar.Header{}
	for _, h := range hs {
		got[h.Name] = h
	}
	for _, c := range []struct {
		name     string
		mode     int64
		uid, gid int
		dir      bool
		content  string
	}{
		{name: "etc/passwd", mode: 0o644, content: "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
		{name: "etc/group", mode: 0o644, content: "nonroot:x:65532:\n"},
		{name: "etc/nsswitch.conf", mode: 0o644, content: "hosts: files dns\n"},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, content: string(testCerts)},
		{name: "home/nonroot/", mode: 0o700, uid: 65532, gid: 65532, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, ok := got[c.name]
			if !ok {
				t.Fatalf("not in the layer (it has %d entries)", len(hs))
			}
			if h.Mode != c.mode || h.Uid != c.uid || h.Gid != c.gid || (h.Typeflag == tar.TypeDir) != c.dir {
				t.Errorf("mode %o uid %d gid %d dir %v, want %o %d %d %v", h.Mode, h.Uid, h.Gid, h.Typeflag == tar.TypeDir, c.mode, c.uid, c.gid, c.dir)
			}
			if !h.ModTime.Equal(time.Unix(0, 0)) {
				t.Errorf("mtime %s, want the epoch", h.ModTime)
			}
			if c.content != "" {
				b, err := ReadFile(img, "/"+c.name)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), c.content) {
					t.Errorf("content %q does not hold %q", b, c.content)
				}
			}
		})
	}
	for _, shell := range []string{"bin/sh", "bin/", "usr/"} {
		if _, ok := got[shell]; ok {
			t.Errorf("the base layer has %s", shell)
		}
	}
}

func TestBaseIndexReproducible(t *testing.T) {
	digest := func(opts BaseOptions) v1.Hash {
		t.Helper()
		idx, err := BaseIndex(opts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := digest(BaseOptions{CACerts: testCerts})
	for _, c := range []struct {
		name string
		opts BaseOptions
		same bool
	}{
		{"same inputs", BaseOptions{CACerts: testCerts}, true},
		{"other certificates", BaseOptions{CACerts: append([]byte("x"), testCerts...)}, false},
		{"other time", BaseOptions{CACerts: testCerts, Created: time.Unix(1700000000, 0)}, false},
		{"labels", BaseOptions{CACerts: testCerts, Labels: map[string]string{LabelVersion: "9"}}, false},
	} {
		if got := digest(c.opts); (got == a) != c.same {
			t.Errorf("%s: digest %s vs %s, same = %v, want %v", c.name, got, a, got == a, c.same)
		}
	}
}

func TestBaseIndexNeedsCerts(t *testing.T) {
	if _, err := BaseIndex(BaseOptions{}); err == nil || !strings.Contains(err.Error(), CACertsPath) {
		t.Errorf("error %v, want one naming %s", err, CACertsPath)
	}
}

func TestReadFileFlattensLayers(t *testing.T) {
	layer := func(files ...baseFile) v1.Layer {
		t.Helper()
		b, err := baseLayer(files, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	img, err := mutate.AppendLayers(empty.Image,
		layer(baseFile{Name: "a", Mode: 0o644, Data: []byte("lower")}, baseFile{Name: "b", Mode: 0o644, Data: []byte("gone")}),
		layer(baseFile{Name: "a", Mode: 0o644, Data: []byte("upper")}, baseFile{Name: ".wh.b", Mode: 0o644}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(img, "/a"); err != nil || string(b) != "upper" {
		t.Errorf("ReadFile(/a) = %q, %v, want the upper layer's", b, err)
	}
	if b, err := ReadFile(img, "/b"); err == nil {
		t.Errorf("ReadFile(/b) = %q, want an error: the upper layer removes it", b)
	}
	if _, err := ReadFile(img, "/none"); err == nil || !strings.Contains(err.Error(), "not in the image") {
		t.Errorf("ReadFile(/none) error %v", err)
	}
}
