package sign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// The media types and annotations of cosign's signature and attestation
// images.
const (
	// SimpleSigningMediaType is a .sig layer's: the payload JSON.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// DSSEMediaType is an .att layer's: a DSSE envelope.
	DSSEMediaType = "application/vnd.dsse.envelope.v1+json"
	// InTotoPayloadType is the payloadType of an attestation's envelope.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// SignatureAnnotation holds a .sig layer's base64 signature (empty on
	// an .att layer, whose signatures are in the envelope).
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// PredicateTypeAnnotation is an .att layer's predicate type.
	PredicateTypeAnnotation = "predicateType"
	// SignatureType is the simple signing payload's critical.type.
	SignatureType = payload.CosignSignatureType
)

// Signature is one image signature: the simple signing payload and its
// base64 ECDSA signature.
type Signature struct {
	Payload []byte
	Base64  string
}

// Payload is the simple signing payload for the image ref (a digest
// reference): critical.identity.docker-reference is ref's repository,
// critical.image.docker-manifest-digest its digest, as `cosign sign`
// writes it.
func Payload(ref name.Digest) ([]byte, error) {
	return json.Marshal(payload.Cosign{Image: ref})
}

// Sign signs the image ref: its payload and signature.
func (s *Signer) Sign(ref name.Digest) (Signature, error) {
	p, err := Payload(ref)
	if err != nil {
		return Signature{}, fmt.Errorf("signature payload of %s: %w", ref, err)
	}
	sig, err := s.signMessage(p)
	if err != nil {
		return Signature{}, fmt.Errorf("signing %s: %w", ref, err)
	}
	return Signature{Payload: p, Base64: base64.StdEncoding.EncodeToString(sig)}, nil
}

// SignedImage is what a valid signature's payload says.
type SignedImage struct {
	// DockerReference is the repository the signer named.
	DockerReference string
	// Digest is the signed manifest's digest.
	Digest string
}

// VerifySignature checks sig with the public key and that its payload
// signs ref: the digest equal, the repository the same as ref's.
func (v *Verifier) VerifySignature(sig Signature, ref name.Digest) (SignedImage, error) {
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil {
		return SignedImage{}, fmt.Errorf("signature annotation: not base64: %w", err)
	}
	if len(raw) == 0 {
		return SignedImage{}, errors.New("signature annotation: empty")
	}
	if err := v.verifyMessage(raw, sig.Payload); err != nil {
		return SignedImage{}, fmt.Errorf("signature does not verify with key %s: %w", KeyID(v.pub), err)
	}
	var p payload.SimpleContainerImage
	dec := json.NewDecoder(bytes.NewReader(sig.Payload))
	if err := dec.Decode(&p); err != nil {
		return SignedImage{}, fmt.Errorf("signature payload: %w", err)
	}
	got := SignedImage{DockerReference: p.Critical.Identity.DockerReference, Digest: p.Critical.Image.DockerManifestDigest}
	if p.Critical.Type != SignatureType {
		return got, fmt.Errorf("signature payload: type %q, want %q", p.Critical.Type, SignatureType)
	}
	if got.Digest != ref.DigestStr() {
		return got, fmt.Errorf("signature payload: signs digest %s, the image is %s", got.Digest, ref.DigestStr())
	}
	if !sameRepository(got.DockerReference, ref.Context()) {
		return got, fmt.Errorf("signature payload: signs repository %s, the image is in %s", got.DockerReference, ref.Context().Name())
	}
	return got, nil
}

// sameRepository reports whether ref (a repository, maybe with a tag or a
// digest, as a claimed identity may be) names repo.
func sameRepository(ref string, repo name.Repository) bool {
	r, err := name.ParseReference(ref)
	if err != nil {
		rr, err := name.NewRepository(ref)
		return err == nil && rr.Name() == repo.Name()
	}
	return r.Context().Name() == repo.Name()
}
