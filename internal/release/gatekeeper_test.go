package release

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestResolveGatekeeper reads a pushed image's digest back from an
// in-process registry, and refuses references it could not pin.
func TestResolveGatekeeper(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(host + "/openpolicyagent/gatekeeper:v3.18.3")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref, want string
		wantErr         string
	}{
		{name: "pushed", ref: ref.String(), want: host + "/openpolicyagent/gatekeeper:v3.18.3@" + digest.String()},
		{name: "another tag than the chart's", ref: host + "/openpolicyagent/gatekeeper:v3.17.0", wantErr: "tag v3.17.0, but the chart's gatekeeperVersion is v3.18.3"},
		{name: "no tag", ref: host + "/openpolicyagent/gatekeeper", wantErr: "want REPOSITORY:TAG"},
		{name: "a digest", ref: host + "/openpolicyagent/gatekeeper:v3.18.3@" + digest.String(), wantErr: "no digest"},
		{name: "not in the registry", ref: host + "/openpolicyagent/missing:v3.18.3", wantErr: "reading its digest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveGatekeeper(context.Background(), tc.ref, "v3.18.3")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Ref() != tc.want || got.Name != GatekeeperImageName {
				t.Errorf("ResolveGatekeeper = %+v (%s), want %s", got, got.Ref(), tc.want)
			}
		})
	}
}

// TestRunNeedsGatekeeperImage: a release to a registry off this machine
// pins the Gatekeeper image, so it fails before building without one.
func TestRunNeedsGatekeeperImage(t *testing.T) {
	_, err := Run(context.Background(), Options{Registry: "registry.example/team", Version: "1.0.0", Root: t.TempDir(), Ko: "ko", OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "-gatekeeper-image") {
		t.Fatalf("error %v, want one asking for -gatekeeper-image", err)
	}
}

func TestCACertificates(t *testing.T) {
	installed, err := DebianPackageVersion(context.Background(), CAPackage)
	if err != nil {
		t.Fatalf("%v (make ca-certificates installs it)", err)
	}
	tests := []struct {
		name        string
		opts        Options
		wantVersion string
		wantErr     string
	}{
		{name: "Debian's bundle", opts: Options{CACerts: CACertsPath}, wantVersion: installed},
		{name: "a version given", opts: Options{CACerts: "/other/bundle.pem", CACertsVersion: "1.2"}, wantVersion: "1.2"},
		{name: "another bundle without a version", opts: Options{CACerts: "/other/bundle.pem"}, wantErr: "/other/bundle.pem: not /etc/ssl/certs/ca-certificates.crt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := caCertificates(context.Background(), tc.opts, []byte("bundle"))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			const bundleSHA256 = "1e6ed65d77d6364eeaed5a745ba5c4985ae2b700dd85d7cf7f027bdf294a33fc" // sha256("bundle")
			if c.Package != CAPackage || c.Version != tc.wantVersion || c.SHA256 != bundleSHA256 {
				t.Errorf("caCertificates = %+v, want %s %s sha256 %s", c, CAPackage, tc.wantVersion, bundleSHA256)
			}
		})
	}
	if _, err := DebianPackageVersion(context.Background(), "no-such-package-gatekeeper-pubsub"); err == nil {
		t.Error("DebianPackageVersion of a package that is not installed: no error")
	}
}
