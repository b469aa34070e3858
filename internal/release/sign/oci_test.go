package sign

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// memImage pushes a random image into go-containerregistry's in-memory
// registry (served by httptest on loopback) and returns it by digest.
func memImage(t *testing.T) name.Digest {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/gatekeeper-pubsub/pubsub-send"
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(repo + ":0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(d.String())
}

func sigLayers(t *testing.T, ref name.Digest, suffix string) []Layer {
	t.Helper()
	tag, err := Tag(ref, suffix)
	if err != nil {
		t.Fatal(err)
	}
	layers, _, err := pull(tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	return layers
}

// TestSignAttestVerifyRoundTrip signs and attests through a registry and
// verifies by pulling: what cosign does with --key, the same layers on
// repeated runs, other keys' signatures kept, another predicate type's
// attestation kept and the same type's replaced.
func TestSignAttestVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	ref := memImage(t)
	signer, verifier := keyPair(t)
	otherSigner, otherVerifier := keyPair(t)
	vo := VerifyOptions{PredicateTypes: []string{SLSAProvenanceV1}}

	if _, err := verifier.Verify(ctx, ref, vo); err == nil || !strings.Contains(err.Error(), "not signed: no ") {
		t.Fatalf("verify before signing: %v", err)
	}
	tag, err := signer.SignImage(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(tag.String(), ".sig") {
		t.Errorf("signature tag %s", tag)
	}
	if _, err := verifier.Verify(ctx, ref, VerifyOptions{}); err != nil {
		t.Fatalf("signature only: %v", err)
	}
	if _, err := verifier.Verify(ctx, ref, vo); err == nil || !strings.Contains(err.Error(), "no attestations") {
		t.Fatalf("verify without attestation: %v", err)
	}
	st := testStatement(t, ref.DigestStr())
	if _, err := signer.AttestImage(ctx, ref, st); err != nil {
		t.Fatal(err)
	}
	got, err := verifier.Verify(ctx, ref, vo)
	if err != nil {
		t.Fatal(err)
	}
	if got.Signature.Digest != ref.DigestStr() || got.Signature.DockerReference != ref.Context().Name() {
		t.Errorf("verified signature %+v", got.Signature)
	}
	if _, ok := got.Statement(SLSAProvenanceV1); !ok {
		t.Errorf("no provenance among %v", got.Statements)
	}
	if _, err := otherVerifier.Verify(ctx, ref, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "does not verify with key") {
		t.Errorf("wrong key: %v", err)
	}

	// Again: the same key's signature is there, nothing is added; the
	// provenance is replaced.
	if _, err := signer.SignImage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := signer.AttestImage(ctx, ref, st); err != nil {
		t.Fatal(err)
	}
	if n, m := len(sigLayers(t, ref, SignatureSuffix)), len(sigLayers(t, ref, AttestationSuffix)); n != 1 || m != 1 {
		t.Errorf("after a second run: %d signatures, %d attestations, want 1 and 1", n, m)
	}
	// Another key adds its own; both verify with their keys.
	if _, err := otherSigner.SignImage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if n := len(sigLayers(t, ref, SignatureSuffix)); n != 2 {
		t.Errorf("%d signatures, want 2", n)
	}
	for _, v := range []*Verifier{verifier, otherVerifier} {
		if _, err := v.Verify(ctx, ref, VerifyOptions{}); err != nil {
			t.Error(err)
		}
	}
	// Another key's provenance replaces this key's.
	if _, err := otherSigner.AttestImage(ctx, ref, st); err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(ctx, ref, vo); err == nil || !strings.Contains(err.Error(), "no valid https://slsa.dev/provenance/v1 attestation") {
		t.Errorf("provenance replaced by another key's: %v", err)
	}
	// A statement that is not about the image is refused.
	if _, err := signer.AttestImage(ctx, ref, testStatement(t, "sha256:"+strings.Repeat("ef", 32))); err == nil {
		t.Error("attesting a statement about another digest: no error")
	}
}

// TestVerifyTampered: a .sig or .att pushed with a changed payload fails.
func TestVerifyTampered(t *testing.T) {
	ctx := context.Background()
	ref := memImage(t)
	signer, verifier := keyPair(t)
	if _, err := signer.SignImage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := signer.AttestImage(ctx, ref, testStatement(t, ref.DigestStr())); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		suffix  string
		edit    func(l Layer) Layer
		vo      VerifyOptions
		wantErr string
	}{
		{SignatureSuffix, func(l Layer) Layer {
			l.Content = []byte(strings.Replace(string(l.Content), `"optional":null`, `"optional":{"x":"y"}`, 1))
			return l
		}, VerifyOptions{}, "no valid signature"},
		{AttestationSuffix, func(l Layer) Layer {
			l.Annotations = map[string]string{SignatureAnnotation: "", PredicateTypeAnnotation: "https://example.com/other"}
			return l
		}, VerifyOptions{PredicateTypes: []string{SLSAProvenanceV1}}, "annotation predicateType"},
		{AttestationSuffix, func(l Layer) Layer {
			l.Content = reenvelope(t, l.Content, func(_ *dsse.Envelope, b []byte) []byte {
				return []byte(strings.Replace(string(b), "0.1.0", "0.1.1", 1))
			})
			return l
		}, VerifyOptions{PredicateTypes: []string{SLSAProvenanceV1}}, "DSSE envelope does not verify"},
	} {
		t.Run(c.suffix+" "+c.wantErr, func(t *testing.T) {
			tag, _ := Tag(ref, c.suffix)
			orig := sigLayers(t, ref, c.suffix)
			t.Cleanup(func() {
				if err := push(tag, orig, nil); err != nil {
					t.Fatal(err)
				}
			})
			if err := push(tag, []Layer{c.edit(orig[0])}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := verifier.Verify(ctx, ref, c.vo); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}
