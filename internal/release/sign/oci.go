package sign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The tag suffixes of cosign's signature and attestation images.
const (
	SignatureSuffix   = "sig"
	AttestationSuffix = "att"
)

// maxLayers bounds the layers read from a pulled .sig or .att image (cosign
// has the same limit).
const maxLayers = 1000

// maxLayerSize bounds one layer read from a pulled .sig or .att image.
const maxLayerSize = 4 << 20

// Tag is the tag of ref's signatures (suffix SignatureSuffix) or
// attestations (AttestationSuffix) in ref's repository:
// sha256-HEX.SUFFIX.
func Tag(ref name.Digest, suffix string) (name.Tag, error) {
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return name.Tag{}, fmt.Errorf("%s: %w", ref, err)
	}
	return ref.Context().Tag(h.Algorithm + "-" + h.Hex + "." + suffix), nil
}

// emptySignatures is cosign's empty signatures image: an OCI manifest with
// an OCI config and no layers.
func emptySignatures() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// Layer is one layer of a .sig or .att image: its content, media type and
// annotations.
type Layer struct {
	Content     []byte
	MediaType   types.MediaType
	Annotations map[string]string
}

// SignatureLayer is sig as a .sig layer.
func SignatureLayer(sig Signature) Layer {
	return Layer{Content: sig.Payload, MediaType: SimpleSigningMediaType, Annotations: map[string]string{SignatureAnnotation: sig.Base64}}
}

// AttestationLayer is a DSSE envelope of a statement of predicateType as an
// .att layer.
func AttestationLayer(envelope []byte, predicateType string) Layer {
	return Layer{Content: envelope, MediaType: DSSEMediaType, Annotations: map[string]string{SignatureAnnotation: "", PredicateTypeAnnotation: predicateType}}
}

// Image is the .sig or .att image of layers, in order.
func Image(layers ...Layer) (v1.Image, error) {
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.Content, l.MediaType), Annotations: l.Annotations})
	}
	img, err := mutate.Append(emptySignatures(), adds...)
	if err != nil {
		return nil, fmt.Errorf("signature image: %w", err)
	}
	return img, nil
}

// Layers reads a .sig or .att image's layers (at most maxLayers, each at
// most maxLayerSize).
func Layers(img v1.Image) ([]Layer, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if len(m.Layers) > maxLayers {
		return nil, fmt.Errorf("%d layers, more than %d", len(m.Layers), maxLayers)
	}
	var out []Layer
	for _, d := range m.Layers {
		if d.Size > maxLayerSize {
			return nil, fmt.Errorf("layer %s: %d bytes, more than %d", d.Digest, d.Size, maxLayerSize)
		}
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxLayerSize+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		if h, _, err := v1.SHA256(bytes.NewReader(b)); err != nil || h != d.Digest {
			return nil, fmt.Errorf("layer %s: content digest %s", d.Digest, h)
		}
		out = append(out, Layer{Content: b, MediaType: d.MediaType, Annotations: d.Annotations})
	}
	return out, nil
}

// pull reads the .sig or .att image at tag; a tag that does not exist
// gives no layers and found false.
func pull(tag name.Tag, opts []remote.Option) (layers []Layer, found bool, err error) {
	img, err := remote.Image(tag, opts...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("pulling %s: %w", tag, err)
	}
	layers, err = Layers(img)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", tag, err)
	}
	return layers, true, nil
}

// push writes layers as the image at tag.
func push(tag name.Tag, layers []Layer, opts []remote.Option) error {
	img, err := Image(layers...)
	if err != nil {
		return err
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		return fmt.Errorf("pushing %s: %w", tag, err)
	}
	return nil
}

// SignImage signs the image ref and attaches the signature at its .sig tag, as
// `cosign sign --key` does: added to the signatures already there, unless
// one of them is this key's signature of the same payload already.
// It returns the tag.
func (s *Signer) SignImage(ctx context.Context, ref name.Digest, opts ...remote.Option) (name.Tag, error) {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	tag, err := Tag(ref, SignatureSuffix)
	if err != nil {
		return tag, err
	}
	existing, _, err := pull(tag, opts)
	if err != nil {
		return tag, err
	}
	v, err := NewVerifier(s.pub)
	if err != nil {
		return tag, err
	}
	for _, l := range existing {
		if l.MediaType != SimpleSigningMediaType {
			continue
		}
		sig := Signature{Payload: l.Content, Base64: l.Annotations[SignatureAnnotation]}
		if _, err := v.VerifySignature(sig, ref); err == nil {
			return tag, nil // signed with this key already
		}
	}
	sig, err := s.Sign(ref)
	if err != nil {
		return tag, err
	}
	return tag, push(tag, append(existing, SignatureLayer(sig)), opts)
}

// AttestImage signs st (a statement about ref) and attaches it at ref's
// .att tag, as `cosign attest --key --replace` does: it replaces the
// attestations of the same predicate type already there and keeps the
// others. It returns the tag.
func (s *Signer) AttestImage(ctx context.Context, ref name.Digest, st Statement, opts ...remote.Option) (name.Tag, error) {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	tag, err := Tag(ref, AttestationSuffix)
	if err != nil {
		return tag, err
	}
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return tag, err
	}
	if !st.Covers(h) {
		return tag, fmt.Errorf("attesting %s: the statement's subjects do not include it", ref)
	}
	env, err := s.Attest(ctx, st)
	if err != nil {
		return tag, err
	}
	existing, _, err := pull(tag, opts)
	if err != nil {
		return tag, err
	}
	var keep []Layer
	for _, l := range existing {
		if l.Annotations[PredicateTypeAnnotation] != st.PredicateType {
			keep = append(keep, l)
		}
	}
	return tag, push(tag, append(keep, AttestationLayer(env, st.PredicateType)), opts)
}

// Verified is what Verify found valid for an image.
type Verified struct {
	Ref name.Digest
	// SignatureTag and Signature are the .sig tag and the valid signature's
	// payload.
	SignatureTag name.Tag
	Signature    SignedImage
	// AttestationTag and Statements are the .att tag and the valid
	// attestations' statements.
	AttestationTag name.Tag
	Statements     []Statement
}

// VerifyOptions say what Verify requires.
type VerifyOptions struct {
	// PredicateTypes are the predicate types of which a valid attestation
	// is required; none requires none (the .att tag is not read).
	PredicateTypes []string
}

// Verify pulls ref's .sig (and with PredicateTypes its .att) by tag from
// the registry and checks them with the public key: a signature valid
// over a payload that names ref's digest and repository, and per
// predicate type an attestation whose DSSE signature is valid and whose
// statement's subjects hold ref's digest. Invalid layers are skipped
// (other keys' signatures); none valid is an error that says why each
// failed.
func (v *Verifier) Verify(ctx context.Context, ref name.Digest, vo VerifyOptions, opts ...remote.Option) (*Verified, error) {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	out := &Verified{Ref: ref}
	var err error
	if out.SignatureTag, err = Tag(ref, SignatureSuffix); err != nil {
		return nil, err
	}
	layers, found, err := pull(out.SignatureTag, opts)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: not signed: no %s", ref, out.SignatureTag)
	}
	var problems []error
	ok := false
	for i, l := range layers {
		if l.MediaType != SimpleSigningMediaType {
			problems = append(problems, fmt.Errorf("layer %d: media type %s", i, l.MediaType))
			continue
		}
		got, err := v.VerifySignature(Signature{Payload: l.Content, Base64: l.Annotations[SignatureAnnotation]}, ref)
		if err != nil {
			problems = append(problems, fmt.Errorf("layer %d: %w", i, err))
			continue
		}
		out.Signature, ok = got, true
		break
	}
	if !ok {
		return nil, fmt.Errorf("%s: no valid signature in %s: %w", ref, out.SignatureTag, errors.Join(problems...))
	}
	if len(vo.PredicateTypes) == 0 {
		return out, nil
	}
	if out.AttestationTag, err = Tag(ref, AttestationSuffix); err != nil {
		return nil, err
	}
	if layers, found, err = pull(out.AttestationTag, opts); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: no attestations: no %s", ref, out.AttestationTag)
	}
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return nil, err
	}
	problems = nil
	for i, l := range layers {
		if l.MediaType != DSSEMediaType {
			problems = append(problems, fmt.Errorf("layer %d: media type %s", i, l.MediaType))
			continue
		}
		st, err := v.VerifyAttestation(ctx, l.Content, h)
		if err != nil {
			problems = append(problems, fmt.Errorf("layer %d: %w", i, err))
			continue
		}
		if a := l.Annotations[PredicateTypeAnnotation]; a != st.PredicateType {
			problems = append(problems, fmt.Errorf("layer %d: annotation predicateType %q, the statement's %q", i, a, st.PredicateType))
			continue
		}
		out.Statements = append(out.Statements, *st)
	}
	for _, pt := range vo.PredicateTypes {
		found := false
		for _, st := range out.Statements {
			found = found || st.PredicateType == pt
		}
		if !found {
			return nil, fmt.Errorf("%s: no valid %s attestation in %s: %w", ref, pt, out.AttestationTag, errors.Join(problems...))
		}
	}
	return out, nil
}

// Statement returns the first verified statement of predicateType.
func (v *Verified) Statement(predicateType string) (Statement, bool) {
	for _, st := range v.Statements {
		if st.PredicateType == predicateType {
			return st, true
		}
	}
	return Statement{}, false
}
