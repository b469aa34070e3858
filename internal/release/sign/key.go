// Package sign signs a release's images and attaches provenance the way
// cosign does with a key, offline (no transparency log, no Fulcio): for an
// image digest sha256:HEX in REPOSITORY,
//
//   - REPOSITORY:sha256-HEX.sig is an OCI image whose layers are "simple
//     signing" payloads (SimpleSigningMediaType) naming the repository and
//     the digest, each with its ECDSA P-256 signature over the payload's
//     SHA-256 (ASN.1, base64) in the layer annotation SignatureAnnotation;
//   - REPOSITORY:sha256-HEX.att is an OCI image whose layers are DSSE
//     envelopes (DSSEMediaType) of in-toto statements (InTotoPayloadType)
//     about the digest, SLSA provenance v1 here, signed over DSSE's PAE,
//     with the layer annotations predicateType and an empty
//     SignatureAnnotation.
//
// `cosign verify --key PUB --insecure-ignore-tlog REF` and `cosign
// verify-attestation --key PUB --insecure-ignore-tlog --type
// slsaprovenance1 REF` read the same layout. Signer.SignImage and
// Signer.AttestImage push them (Signer.Sign and Signer.Attest make the
// signature and the envelope alone); Verifier.Verify pulls them by tag and
// checks them with the public key. The
// cryptography and the payload and envelope formats are sigstore's own
// (github.com/sigstore/sigstore, github.com/secure-systems-lab/go-securesystemslib).
package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PassFunc returns the password of an encrypted private key (cosign's
// `cosign generate-key-pair` keys); nil means the key is not encrypted.
type PassFunc func() ([]byte, error)

// PasswordFromEnv reads the password from the environment variable name
// (cosign's COSIGN_PASSWORD); unset gives no password.
func PasswordFromEnv(name string) PassFunc {
	return func() ([]byte, error) {
		v, ok := os.LookupEnv(name)
		if !ok {
			return nil, fmt.Errorf("the key is encrypted: set %s to its password", name)
		}
		return []byte(v), nil
	}
}

// Signer signs with an ECDSA P-256 private key (SHA-256), as cosign's
// default keys are.
type Signer struct {
	sv  signature.SignerVerifier
	pub *ecdsa.PublicKey
}

// NewSigner signs with priv, which must be on P-256.
func NewSigner(priv *ecdsa.PrivateKey) (*Signer, error) {
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, errors.New("signing key: want an ECDSA P-256 key")
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &Signer{sv: sv, pub: &priv.PublicKey}, nil
}

// GenerateKey makes a new P-256 key pair and returns its PEM encodings: the
// private key as PKCS#8 ("PRIVATE KEY") and the public key as PKIX
// ("PUBLIC KEY"), the forms `openssl` and cosign read.
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if privPEM, err = cryptoutils.MarshalPrivateKeyToPEM(priv); err != nil {
		return nil, nil, err
	}
	if pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(&priv.PublicKey); err != nil {
		return nil, nil, err
	}
	return privPEM, pubPEM, nil
}

// LoadSigner reads a PEM private key file: "EC PRIVATE KEY" (openssl
// ecparam -genkey), "PRIVATE KEY" (PKCS#8) or cosign's encrypted
// "ENCRYPTED SIGSTORE PRIVATE KEY" / "ENCRYPTED COSIGN PRIVATE KEY" (with
// pass), of an ECDSA P-256 key. Errors name the file and what it holds.
func LoadSigner(path string, pass PassFunc) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return ParseSigner(path, b, pass)
}

// ParseSigner is LoadSigner of the file's content b; path names it in
// errors.
func ParseSigner(path string, b []byte, pass PassFunc) (*Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("signing key %s: not a PEM file; want an ECDSA P-256 private key (openssl ecparam -name prime256v1 -genkey -noout -out %s)", path, path)
	}
	var pf cryptoutils.PassFunc
	switch block.Type {
	case "PUBLIC KEY":
		return nil, fmt.Errorf("signing key %s: a public key (PEM %q); the release signs with the private key, and verifies with this one", path, block.Type)
	case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		if pass == nil {
			return nil, fmt.Errorf("signing key %s: encrypted (PEM %q) and no password given", path, block.Type)
		}
		pf = func(bool) ([]byte, error) { return pass() }
	}
	key, err := cryptoutils.UnmarshalPEMToPrivateKey(b, pf)
	if err != nil {
		return nil, fmt.Errorf("signing key %s (PEM %q): %w", path, block.Type, err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: a %s private key; want ECDSA P-256", path, keyKind(key))
	}
	if priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s: ECDSA on %s; want P-256 (prime256v1)", path, priv.Curve.Params().Name)
	}
	return NewSigner(priv)
}

func keyKind(k any) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

// PublicKey is the signer's public key.
func (s *Signer) PublicKey() *ecdsa.PublicKey { return s.pub }

// PublicKeyPEM is the public key as PKIX PEM ("PUBLIC KEY"), what Verify
// and `cosign verify --key` take.
func (s *Signer) PublicKeyPEM() ([]byte, error) { return cryptoutils.MarshalPublicKeyToPEM(s.pub) }

// KeyID names a public key: sha256: and the hex SHA-256 of its PKIX DER.
func KeyID(pub *ecdsa.PublicKey) string {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// signMessage signs msg: ECDSA over its SHA-256, ASN.1 encoded.
func (s *Signer) signMessage(msg []byte) ([]byte, error) {
	return s.sv.SignMessage(bytesReader(msg))
}

// Verifier checks signatures with an ECDSA P-256 public key.
type Verifier struct {
	v   signature.Verifier
	pub *ecdsa.PublicKey
}

// NewVerifier verifies with pub, which must be on P-256.
func NewVerifier(pub *ecdsa.PublicKey) (*Verifier, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, errors.New("verification key: want an ECDSA P-256 public key")
	}
	v, err := signature.LoadECDSAVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("verification key: %w", err)
	}
	return &Verifier{v: v, pub: pub}, nil
}

// LoadVerifier reads a PEM public key file ("PUBLIC KEY", as `openssl ec
// -pubout` and cosign write it) of an ECDSA P-256 key.
func LoadVerifier(path string) (*Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return ParseVerifier(path, b)
}

// ParseVerifier is LoadVerifier of the file's content b.
func ParseVerifier(path string, b []byte) (*Verifier, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("public key %s: not a PEM file; want an ECDSA P-256 public key (openssl ec -in KEY -pubout)", path)
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key %s: PEM %q; want \"PUBLIC KEY\" (openssl ec -in KEY -pubout)", path, block.Type)
	}
	key, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s: a %T; want ECDSA P-256", path, key)
	}
	if pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("public key %s: ECDSA on %s; want P-256", path, pub.Curve.Params().Name)
	}
	return NewVerifier(pub)
}

// PublicKey is the verifier's key.
func (v *Verifier) PublicKey() *ecdsa.PublicKey { return v.pub }

func (v *Verifier) verifyMessage(sig, msg []byte) error {
	return v.v.VerifySignature(bytesReader(sig), bytesReader(msg))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
