package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

const (
	testRepo   = "registry.example/gatekeeper-pubsub/pubsub-send"
	testDigest = "sha256:6480c985d7b7a5e1c3b1f3e5a0b4b2d6c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f"
)

func testRef(t *testing.T) name.Digest {
	t.Helper()
	ref, err := name.NewDigest(testRepo + "@" + testDigest)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// keyPair is a fresh P-256 signer and its verifier.
func keyPair(t *testing.T) (*Signer, *Verifier) {
	t.Helper()
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSigner("test.key", priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVerifier("test.pub", pub)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseSigner(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(p256)
	pkcs8P384, _ := x509.MarshalPKCS8PrivateKey(p384)
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pubDER, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	encrypted, _, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte("s3cret")))
	if err != nil {
		t.Fatal(err)
	}
	password := func(s string) PassFunc { return func() ([]byte, error) { return []byte(s), nil } }
	for _, c := range []struct {
		name    string
		pem     []byte
		pass    PassFunc
		wantErr string // empty: loads
	}{
		{"SEC1 EC PRIVATE KEY (openssl ecparam -genkey)", pemBlock("EC PRIVATE KEY", sec1), nil, ""},
		{"PKCS#8 PRIVATE KEY", pemBlock("PRIVATE KEY", pkcs8), nil, ""},
		{"cosign's encrypted key with its password", encrypted, password("s3cret"), ""},
		{"cosign's encrypted key without a password", encrypted, nil, `encrypted (PEM "ENCRYPTED SIGSTORE PRIVATE KEY") and no password given`},
		{"cosign's encrypted key with a wrong password", encrypted, password("wrong"), "signing key k.pem"},
		{"a public key", pemBlock("PUBLIC KEY", pubDER), nil, "a public key"},
		{"RSA", pemBlock("PRIVATE KEY", pkcs8RSA), nil, "a RSA private key; want ECDSA P-256"},
		{"P-384", pemBlock("PRIVATE KEY", pkcs8P384), nil, "ECDSA on P-384; want P-256"},
		{"not PEM", []byte("hello\n"), nil, "signing key k.pem: not a PEM file"},
		{"a certificate", pemBlock("CERTIFICATE", []byte{1, 2, 3}), nil, `unknown private key PEM file type: CERTIFICATE`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSigner("k.pem", c.pem, c.pass)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.PublicKey().Curve != elliptic.P256() {
					t.Errorf("curve %s", s.PublicKey().Curve.Params().Name)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

func TestLoadKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile, pubFile := filepath.Join(dir, "release.key"), filepath.Join(dir, "release.pub")
	if err := os.WriteFile(keyFile, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	if KeyID(s.PublicKey()) != KeyID(v.PublicKey()) || !strings.HasPrefix(KeyID(v.PublicKey()), "sha256:") {
		t.Errorf("key IDs %s and %s", KeyID(s.PublicKey()), KeyID(v.PublicKey()))
	}
	for _, c := range []struct {
		name, want string
		err        func() error
	}{
		{"missing key", "signing key " + filepath.Join(dir, "none.key") + ": open", func() error { _, err := LoadSigner(filepath.Join(dir, "none.key"), nil); return err }},
		{"public key as signing key", "signing key " + pubFile + `: a public key`, func() error { _, err := LoadSigner(pubFile, nil); return err }},
		{"private key as public key", "public key " + keyFile + `: PEM "PRIVATE KEY"; want "PUBLIC KEY"`, func() error { _, err := LoadVerifier(keyFile); return err }},
		{"missing public key", "public key " + filepath.Join(dir, "none.pub"), func() error { _, err := LoadVerifier(filepath.Join(dir, "none.pub")); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestPayload: the simple signing payload byte for byte as cosign writes it.
func TestPayload(t *testing.T) {
	p, err := Payload(testRef(t))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"critical":{"identity":{"docker-reference":"` + testRepo + `"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"cosign container image signature"},"optional":null}`
	if string(p) != want {
		t.Errorf("payload\n%s\nwant\n%s", p, want)
	}
}

func TestVerifySignature(t *testing.T) {
	signer, verifier := keyPair(t)
	_, otherVerifier := keyPair(t)
	ref := testRef(t)
	sig, err := signer.Sign(ref)
	if err != nil {
		t.Fatal(err)
	}
	// The signature is ECDSA P-256 over the payload's SHA-256, ASN.1.
	raw, _ := base64.StdEncoding.DecodeString(sig.Base64)
	sum := sha256.Sum256(sig.Payload)
	if !ecdsa.VerifyASN1(verifier.PublicKey(), sum[:], raw) {
		t.Fatal("the signature is not ECDSA over SHA-256(payload)")
	}
	otherDigest, _ := name.NewDigest(testRepo + "@sha256:" + strings.Repeat("ab", 32))
	otherRepo, _ := name.NewDigest("registry.example/someone/else@" + testDigest)
	tampered := strings.Replace(string(sig.Payload), testDigest[len(testDigest)-4:], "0000", 1)
	otherPayload, _ := Payload(otherDigest)
	otherSig, _ := signer.Sign(otherDigest)
	for _, c := range []struct {
		name     string
		verifier *Verifier
		sig      Signature
		ref      name.Digest
		wantErr  string
	}{
		{"valid", verifier, sig, ref, ""},
		{"wrong key", otherVerifier, sig, ref, "signature does not verify with key"},
		{"tampered payload", verifier, Signature{Payload: []byte(tampered), Base64: sig.Base64}, ref, "signature does not verify"},
		{"another image's payload under this signature", verifier, Signature{Payload: otherPayload, Base64: sig.Base64}, ref, "signature does not verify"},
		{"a valid signature of another digest", verifier, otherSig, ref, "signs digest sha256:abab"},
		{"checked against another repository", verifier, sig, otherRepo, "signs repository " + testRepo},
		{"not base64", verifier, Signature{Payload: sig.Payload, Base64: "%%%"}, ref, "not base64"},
		{"empty signature", verifier, Signature{Payload: sig.Payload}, ref, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.verifier.VerifySignature(c.sig, c.ref)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.Digest != testDigest || got.DockerReference != testRepo {
					t.Errorf("verified %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

func testStatement(t *testing.T, digests ...string) Statement {
	t.Helper()
	var subjects []Subject
	for _, d := range digests {
		subjects = append(subjects, ImageSubject(testRepo, mustHash(t, d)))
	}
	st, err := NewStatement(SLSAProvenanceV1, Provenance{
		BuildDefinition: BuildDefinition{BuildType: "https://example.com/build/v1", ExternalParameters: map[string]any{"version": "0.1.0"}},
		RunDetails:      RunDetails{Builder: Builder{ID: "https://example.com/builder"}},
	}, subjects...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// reenvelope changes an envelope's decoded payload or type with edit and
// keeps its signatures.
func reenvelope(t *testing.T, env []byte, edit func(e *dsse.Envelope, body []byte) []byte) []byte {
	t.Helper()
	var e dsse.Envelope
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	body, err := e.DecodeB64Payload()
	if err != nil {
		t.Fatal(err)
	}
	e.Payload = base64.StdEncoding.EncodeToString(edit(&e, body))
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyAttestation(t *testing.T) {
	ctx := context.Background()
	signer, verifier := keyPair(t)
	_, otherVerifier := keyPair(t)
	other := "sha256:" + strings.Repeat("cd", 32)
	env, err := signer.Attest(ctx, testStatement(t, testDigest))
	if err != nil {
		t.Fatal(err)
	}
	// The envelope: payloadType in-toto, one signature over
	// PAE(payloadType, payload) with ECDSA P-256 over its SHA-256.
	var e dsse.Envelope
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	body, _ := e.DecodeB64Payload()
	if e.PayloadType != InTotoPayloadType || len(e.Signatures) != 1 {
		t.Fatalf("envelope %s", env)
	}
	raw, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	sum := sha256.Sum256(dsse.PAE(InTotoPayloadType, body))
	if !ecdsa.VerifyASN1(verifier.PublicKey(), sum[:], raw) {
		t.Fatal("the DSSE signature is not ECDSA over SHA-256(PAE(payloadType, payload))")
	}
	multi, err := signer.Attest(ctx, testStatement(t, other, testDigest))
	if err != nil {
		t.Fatal(err)
	}
	otherSubject, err := signer.Attest(ctx, testStatement(t, other))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		verifier *Verifier
		env      []byte
		digest   string
		wantErr  string
	}{
		{"valid", verifier, env, testDigest, ""},
		{"one of several subjects", verifier, multi, testDigest, ""},
		{"wrong key", otherVerifier, env, testDigest, "DSSE envelope does not verify with key"},
		{"tampered payload", verifier, reenvelope(t, env, func(_ *dsse.Envelope, b []byte) []byte {
			return []byte(strings.Replace(string(b), "0.1.0", "6.6.6", 1))
		}), testDigest, "DSSE envelope does not verify"},
		{"subject swapped in the payload", verifier, reenvelope(t, env, func(_ *dsse.Envelope, b []byte) []byte {
			return []byte(strings.Replace(string(b), mustHash(t, testDigest).Hex, mustHash(t, other).Hex, 1))
		}), testDigest, "DSSE envelope does not verify"},
		{"payloadType changed", verifier, reenvelope(t, env, func(e *dsse.Envelope, b []byte) []byte {
			e.PayloadType = "application/json"
			return b
		}), testDigest, `payloadType "application/json"`},
		{"a valid attestation of another digest", verifier, otherSubject, testDigest, "do not include " + testDigest},
		{"not JSON", verifier, []byte("nope"), testDigest, "DSSE envelope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := c.verifier.VerifyAttestation(ctx, c.env, mustHash(t, c.digest))
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if st.Type != StatementType || st.PredicateType != SLSAProvenanceV1 {
					t.Errorf("statement %+v", st)
				}
				p, err := st.Provenance()
				if err != nil || p.BuildDefinition.BuildType != "https://example.com/build/v1" {
					t.Errorf("provenance %+v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

// TestImageLayout: the .sig and .att images as cosign writes them.
func TestImageLayout(t *testing.T) {
	signer, _ := keyPair(t)
	sig, err := signer.Sign(testRef(t))
	if err != nil {
		t.Fatal(err)
	}
	env, err := signer.Attest(context.Background(), testStatement(t, testDigest))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		layer Layer
	}{
		{"sig", SignatureLayer(sig)},
		{"att", AttestationLayer(env, SLSAProvenanceV1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := Image(c.layer)
			if err != nil {
				t.Fatal(err)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
				t.Errorf("manifest %s, config %s", m.MediaType, m.Config.MediaType)
			}
			if len(m.Layers) != 1 {
				t.Fatalf("%d layers", len(m.Layers))
			}
			d := m.Layers[0]
			if want, _, _ := v1.SHA256(strings.NewReader(string(c.layer.Content))); d.Digest != want || d.Size != int64(len(c.layer.Content)) {
				t.Errorf("layer %s (%d bytes), want the content's own digest %s: it is stored as is", d.Digest, d.Size, want)
			}
			if d.MediaType != c.layer.MediaType {
				t.Errorf("layer media type %s, want %s", d.MediaType, c.layer.MediaType)
			}
			for k, v := range c.layer.Annotations {
				if got, ok := d.Annotations[k]; !ok || got != v {
					t.Errorf("annotation %s = %q, want %q", k, got, v)
				}
			}
			back, err := Layers(img)
			if err != nil || len(back) != 1 || string(back[0].Content) != string(c.layer.Content) {
				t.Errorf("read back %v, %v", back, err)
			}
		})
	}
	if got := SignatureLayer(sig).Annotations[SignatureAnnotation]; got != sig.Base64 {
		t.Errorf("signature annotation %q", got)
	}
	att := AttestationLayer(env, SLSAProvenanceV1).Annotations
	if v, ok := att[SignatureAnnotation]; !ok || v != "" {
		t.Errorf(".att layer's %s = %q (present %v), want present and empty", SignatureAnnotation, v, ok)
	}
	if att[PredicateTypeAnnotation] != SLSAProvenanceV1 {
		t.Errorf(".att layer's predicateType %q", att[PredicateTypeAnnotation])
	}
	tag, err := Tag(testRef(t), SignatureSuffix)
	if err != nil || tag.String() != testRepo+":sha256-"+mustHash(t, testDigest).Hex+".sig" {
		t.Errorf("tag %s, %v", tag, err)
	}
}
