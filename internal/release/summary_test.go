package release

import (
	"bytes"
	"strings"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for _, c := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1:5000", true},
		{"127.0.0.1", true},
		{"localhost:5001", true},
		{"[::1]:5000", true},
		{"10.0.0.1:5000", false},
		{"registry.invalid", false},
		{"registry.invalid:443", false},
	} {
		if got := IsLoopback(c.host); got != c.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", c.host, got, c.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {136_600, "136.6 kB"}, {9_200_000, "9.2 MB"}, {3_000_000_000, "3.0 GB"},
	} {
		if got := HumanSize(c.n); got != c.want {
			t.Errorf("HumanSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestPrint(t *testing.T) {
	r := &Result{
		Registry: "127.0.0.1:5001", Version: "0.1.0",
		Base:           Image{Name: "base", Repository: "127.0.0.1:5001/gatekeeper-pubsub/base", Tag: "0.1.0", Digest: "sha256:b"},
		CACertificates: CACertificates{Package: "ca-certificates", Version: "20230311+deb12u1", SHA256: "ab12"},
		Gatekeeper:     &Image{Name: GatekeeperImageName, Repository: "127.0.0.1:5001/openpolicyagent/gatekeeper", Tag: "v3.18.3", Digest: "sha256:g"},
		Images: []Image{{Name: "pubsub-send", Repository: "127.0.0.1:5001/gatekeeper-pubsub/pubsub-send", Tag: "0.1.0", Digest: "sha256:s",
			Platforms: []Platform{{Platform: "linux/amd64", Digest: "sha256:a", Size: 9_200_000}},
			SBOMs:     []string{"127.0.0.1:5001/gatekeeper-pubsub/pubsub-send:sha256-s.sbom"}}},
		Chart: Chart{Ref: "oci://127.0.0.1:5001/gatekeeper-pubsub/charts/gatekeeper-pubsub", Tag: "0.1.0", Digest: "sha256:c", Size: 14_600, File: "x.tgz",
			Values: map[string]string{"tests.image.tag": "0.1.0@sha256:s"}},
	}
	var b bytes.Buffer
	Print(&b, r)
	for _, want := range []string{
		"image 127.0.0.1:5001/gatekeeper-pubsub/pubsub-send:0.1.0@sha256:s\n",
		"ca bundle       ca-certificates 20230311+deb12u1 (Debian), sha256:ab12\n",
		"gatekeeper 127.0.0.1:5001/openpolicyagent/gatekeeper:v3.18.3@sha256:g\n",
		"linux/amd64     sha256:a     9.2 MB\n",
		"sbom (spdx)     127.0.0.1:5001/gatekeeper-pubsub/pubsub-send:sha256-s.sbom\n",
		"chart oci://127.0.0.1:5001/gatekeeper-pubsub/charts/gatekeeper-pubsub:0.1.0@sha256:c  14.6 kB (x.tgz)\n",
		"tests.image.tag=0.1.0@sha256:s\n",
		"helm install gatekeeper-pubsub oci://127.0.0.1:5001/gatekeeper-pubsub/charts/gatekeeper-pubsub --version 0.1.0 -n gatekeeper-system --plain-http",
		"not signed: no signing key (make release SIGNING_KEY=",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}

	// Signed: each image's and the chart's signature and provenance, the
	// key and how to verify.
	r.Signing = &Signing{KeyID: "sha256:k", PublicKey: "PEM"}
	r.Chart.File = "/out/x.tgz"
	r.Images[0].Signatures = []string{"s.sig", "a.sig", "b.sig"}
	r.Images[0].Attestations = []string{"s.att", "a.att", "b.att"}
	r.Chart.Signature, r.Chart.Attestation = "c.sig", "c.att"
	b.Reset()
	Print(&b, r)
	for _, want := range []string{
		"signature       s.sig (and 2 platforms')\n",
		"provenance      s.att (and 2 platforms')\n",
		"signature       c.sig\n",
		"provenance      c.att\n",
		"signed with key sha256:k ",
		"go run ./hack/release verify --key /out/signing-key.pub 127.0.0.1:5001/gatekeeper-pubsub/pubsub-send:0.1.0@sha256:s\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "not signed") {
		t.Errorf("signed, but says not signed:\n%s", b.String())
	}
}
