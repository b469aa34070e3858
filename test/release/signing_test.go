package release_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/mod/modfile"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release/sign"
)

// writeKeyPair writes a new ECDSA P-256 key pair into dir as `openssl
// ecparam -name prime256v1 -genkey` and `openssl ec -pubout` write them
// (SEC 1 "EC PRIVATE KEY", PKIX "PUBLIC KEY") and returns the two files.
func writeKeyPair(dir string) (privFile, pubFile string, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	sec1, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pkix, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return "", "", err
	}
	privFile, pubFile = filepath.Join(dir, "release.key"), filepath.Join(dir, "release.pub")
	if err := os.WriteFile(privFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}), 0o644); err != nil {
		return "", "", err
	}
	return privFile, pubFile, nil
}

func readPublicKey(t *testing.T, file string) *ecdsa.PublicKey {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: not PEM", file)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PublicKey)
}

// signedArtifact is one digest the release signed: an image index, a
// platform image or the chart.
type signedArtifact struct {
	what       string
	repository string
	digest     string
	buildType  string
	// deps are digests the provenance must list as resolved dependencies.
	deps []string
}

func signedArtifacts(f *releaseFixture) []signedArtifact {
	var out []signedArtifact
	for _, img := range append([]release.Image{f.res.Base}, f.res.Images...) {
		bt, deps := release.BuildTypeKo, []string{f.res.Base.Digest}
		if img.Name == "base" {
			bt, deps = release.BuildTypeBase, []string{"sha256:" + f.res.CACertificates.SHA256}
		}
		out = append(out, signedArtifact{img.Name, img.Repository, img.Digest, bt, deps})
		for _, p := range img.Platforms {
			out = append(out, signedArtifact{img.Name + " " + p.Platform, img.Repository, p.Digest, bt, deps})
		}
	}
	var chartDeps []string
	for _, img := range f.res.Images {
		chartDeps = append(chartDeps, img.Digest)
	}
	out = append(out, signedArtifact{"chart", strings.TrimPrefix(f.res.Chart.Ref, "oci://"), f.res.Chart.Digest, release.BuildTypeChart, chartDeps})
	return out
}

// pullLayer pulls REPOSITORY:sha256-HEX.SUFFIX by tag and returns its one
// layer's descriptor and content.
func pullLayer(t *testing.T, repository, digest, suffix string) (v1.Descriptor, []byte) {
	t.Helper()
	h := mustHash(t, digest)
	tag := repository + ":" + h.Algorithm + "-" + h.Hex + "." + suffix
	img, err := remote.Image(mustRef(t, tag))
	if err != nil {
		t.Fatalf("pulling %s: %v", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("%s: manifest %s, config %s; cosign writes an OCI manifest with an OCI config", tag, m.MediaType, m.Config.MediaType)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("%s: %d layers, want 1 (one signing key, one release)", tag, len(m.Layers))
	}
	l, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return m.Layers[0], b
}

// TestSignatures pulls each signed digest's .sig by tag and checks it
// as cosign's verification does, with nothing of the signing code:
// the simple signing payload names the repository and the digest, and
// the annotation's ECDSA signature over its SHA-256 is valid with the
// public key.
func TestSignatures(t *testing.T) {
	f := released(t)
	if f.res.Signing == nil {
		t.Fatal("the release was given a signing key but says it did not sign")
	}
	pub := readPublicKey(t, f.publicKey)
	written, err := os.ReadFile(filepath.Join(filepath.Dir(f.res.Chart.File), release.PublicKeyFile))
	if err != nil || !strings.Contains(string(written), "PUBLIC KEY") || f.res.Signing.PublicKey != string(written) {
		t.Errorf("the release's %s: %v\n%s", release.PublicKeyFile, err, written)
	}
	for _, a := range signedArtifacts(f) {
		t.Run(a.what, func(t *testing.T) {
			d, payload := pullLayer(t, a.repository, a.digest, sign.SignatureSuffix)
			if d.MediaType != "application/vnd.dev.cosign.simplesigning.v1+json" {
				t.Errorf("layer media type %s", d.MediaType)
			}
			want := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, a.repository, a.digest)
			if string(payload) != want {
				t.Errorf("payload\n%s\nwant\n%s", payload, want)
			}
			sig, err := base64.StdEncoding.DecodeString(d.Annotations["dev.cosignproject.cosign/signature"])
			if err != nil || len(sig) == 0 {
				t.Fatalf("signature annotation %q: %v", d.Annotations["dev.cosignproject.cosign/signature"], err)
			}
			sum := sha256.Sum256(payload)
			if !ecdsa.VerifyASN1(pub, sum[:], sig) {
				t.Error("the signature is not valid with the public key")
			}
		})
	}
}

// pae is DSSE's pre-authentication encoding.
func pae(payloadType string, payload []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload))
}

// TestProvenance pulls each signed digest's .att by tag and checks the
// DSSE envelope with the public key over PAE(payloadType, payload), and
// the SLSA provenance v1 statement: its subjects hold the digest, the
// builder, the build type, and the resolved dependencies (go.mod's
// modules, the base image by digest).
func TestProvenance(t *testing.T) {
	f := released(t)
	pub := readPublicKey(t, f.publicKey)
	mf, err := modfile.Parse("go.mod", f.goMod, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range signedArtifacts(f) {
		t.Run(a.what, func(t *testing.T) {
			d, raw := pullLayer(t, a.repository, a.digest, sign.AttestationSuffix)
			if d.MediaType != "application/vnd.dsse.envelope.v1+json" {
				t.Errorf("layer media type %s", d.MediaType)
			}
			if v, ok := d.Annotations["dev.cosignproject.cosign/signature"]; !ok || v != "" {
				t.Errorf("annotation dev.cosignproject.cosign/signature %q (present %v), want present and empty", v, ok)
			}
			if d.Annotations["predicateType"] != "https://slsa.dev/provenance/v1" {
				t.Errorf("annotation predicateType %q", d.Annotations["predicateType"])
			}
			var env struct {
				PayloadType string `json:"payloadType"`
				Payload     string `json:"payload"`
				Signatures  []struct {
					KeyID string `json:"keyid"`
					Sig   string `json:"sig"`
				} `json:"signatures"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatal(err)
			}
			if env.PayloadType != "application/vnd.in-toto+json" || len(env.Signatures) != 1 {
				t.Fatalf("envelope payloadType %q, %d signatures", env.PayloadType, len(env.Signatures))
			}
			body, err := base64.StdEncoding.DecodeString(env.Payload)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(pae(env.PayloadType, body))
			if !ecdsa.VerifyASN1(pub, sum[:], sig) {
				t.Error("the DSSE signature is not valid with the public key over PAE(payloadType, payload)")
			}
			var st struct {
				Type          string `json:"_type"`
				PredicateType string `json:"predicateType"`
				Subject       []struct {
					Name   string            `json:"name"`
					Digest map[string]string `json:"digest"`
				} `json:"subject"`
				Predicate sign.Provenance `json:"predicate"`
			}
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatal(err)
			}
			if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://slsa.dev/provenance/v1" {
				t.Errorf("statement _type %q predicateType %q", st.Type, st.PredicateType)
			}
			h := mustHash(t, a.digest)
			if !slices.ContainsFunc(st.Subject, func(s struct {
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			}) bool {
				return s.Name == a.repository && s.Digest["sha256"] == h.Hex
			}) {
				t.Errorf("subjects %v do not hold %s@%s", st.Subject, a.repository, a.digest)
			}
			p := st.Predicate
			if p.RunDetails.Builder.ID != release.BuilderID || p.BuildDefinition.BuildType != a.buildType {
				t.Errorf("builder %q build type %q, want %q %q", p.RunDetails.Builder.ID, p.BuildDefinition.BuildType, release.BuilderID, a.buildType)
			}
			if p.RunDetails.Builder.Version["release"] == "" || p.RunDetails.Metadata == nil || p.RunDetails.Metadata.StartedOn == nil {
				t.Errorf("run details %+v", p.RunDetails)
			}
			if len(p.BuildDefinition.ExternalParameters) == 0 {
				t.Error("no external parameters")
			}
			deps := map[string]bool{}
			for _, r := range p.BuildDefinition.ResolvedDependencies {
				deps[r.URI] = true
				for alg, v := range r.Digest {
					deps[alg+":"+v] = true
				}
			}
			for _, want := range a.deps {
				if !deps[want] {
					t.Errorf("resolved dependencies lack %s", want)
				}
			}
			if a.buildType == release.BuildTypeKo {
				if p.BuildDefinition.InternalParameters["koArgs"] == nil {
					t.Error("no ko arguments in the internal parameters")
				}
				for _, r := range mf.Require {
					if u := "pkg:golang/" + r.Mod.Path + "@" + r.Mod.Version; !deps[u] {
						t.Errorf("resolved dependencies lack go.mod's %s", u)
					}
				}
				if mf.Toolchain != nil && !deps["pkg:golang/toolchain@"+mf.Toolchain.Name] {
					t.Errorf("resolved dependencies lack the toolchain %s", mf.Toolchain.Name)
				}
			}
		})
	}
}

// TestVerify is what a user runs: sign.Verify (and `go run ./hack/release
// verify`) pulls the .sig and .att and accepts them with the release's
// public key; a wrong key, a signature or attestation copied to another
// image and a tampered payload are refused.
func TestVerify(t *testing.T) {
	f := released(t)
	ctx := context.Background()
	v, err := sign.LoadVerifier(f.publicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, wrongPub, err := writeKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := sign.LoadVerifier(wrongPub)
	if err != nil {
		t.Fatal(err)
	}
	vo := sign.VerifyOptions{PredicateTypes: []string{sign.SLSAProvenanceV1}}
	for _, a := range signedArtifacts(f) {
		ref, err := name.NewDigest(a.repository + "@" + a.digest)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(ctx, ref, vo)
		if err != nil {
			t.Errorf("%s: %v", a.what, err)
			continue
		}
		if got.Signature.Digest != a.digest {
			t.Errorf("%s: verified digest %s", a.what, got.Signature.Digest)
		}
		if _, err := wrong.Verify(ctx, ref, sign.VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "does not verify with key") {
			t.Errorf("%s with a wrong key: %v", a.what, err)
		}
	}

	// The stand-in Gatekeeper image, not signed by the release, gets
	// pubsub-send's genuine .sig and .att, then tampered ones.
	send := f.image(t, "pubsub-send")
	gk, err := remote.Head(mustRef(t, f.gatekeeper))
	if err != nil {
		t.Fatal(err)
	}
	gkRef, err := name.NewDigest(mustRef(t, f.gatekeeper).Context().Name() + "@" + gk.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, gkRef, sign.VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("unsigned image: %v", err)
	}
	sendRef, err := name.NewDigest(send.Repository + "@" + send.Digest)
	if err != nil {
		t.Fatal(err)
	}
	sigTag, _ := sign.Tag(sendRef, sign.SignatureSuffix)
	attTag, _ := sign.Tag(sendRef, sign.AttestationSuffix)
	sigImg, err := remote.Image(sigTag)
	if err != nil {
		t.Fatal(err)
	}
	attImg, err := remote.Image(attTag)
	if err != nil {
		t.Fatal(err)
	}
	sigLayers, err := sign.Layers(sigImg)
	if err != nil {
		t.Fatal(err)
	}
	attLayers, err := sign.Layers(attImg)
	if err != nil {
		t.Fatal(err)
	}
	tamperedSig := sigLayers[0]
	tamperedSig.Content = []byte(strings.Replace(string(tamperedSig.Content), sendRef.DigestStr(), gkRef.DigestStr(), 1))
	tamperedSig.Content = []byte(strings.Replace(string(tamperedSig.Content), send.Repository, gkRef.Context().Name(), 1))
	tamperedAtt := attLayers[0]
	tamperedAtt.Content = tamperEnvelope(t, tamperedAtt.Content, mustHash(t, send.Digest).Hex, gk.Digest.Hex)
	gkSig, _ := sign.Tag(gkRef, sign.SignatureSuffix)
	gkAtt, _ := sign.Tag(gkRef, sign.AttestationSuffix)
	for _, c := range []struct {
		name    string
		tag     name.Tag
		layer   sign.Layer
		vo      sign.VerifyOptions
		wantErr string
	}{
		{"pubsub-send's signature copied", gkSig, sigLayers[0], sign.VerifyOptions{}, "signs digest " + send.Digest},
		{"a tampered payload", gkSig, tamperedSig, sign.VerifyOptions{}, "signature does not verify with key"},
		{"pubsub-send's provenance copied", gkAtt, attLayers[0], vo, "do not include " + gk.Digest.String()},
		{"a tampered statement", gkAtt, tamperedAtt, vo, "DSSE envelope does not verify with key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := sign.Image(c.layer)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(c.tag, img); err != nil {
				t.Fatal(err)
			}
			if c.tag == gkAtt {
				// The .att is read after a valid .sig: push the genuine
				// signature of this image first.
				s, err := sign.LoadSigner(f.signingKey, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.SignImage(ctx, gkRef); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := v.Verify(ctx, gkRef, c.vo); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}

	// The command a user runs.
	t.Run("release verify", func(t *testing.T) {
		root := repoRoot(t)
		bin := filepath.Join(t.TempDir(), "release")
		if out, code := runCmd(t, root, os.Environ(), "go", "build", "-o", bin, "./hack/release"); code != 0 {
			t.Fatalf("go build ./hack/release: %s", out)
		}
		pub := filepath.Join(filepath.Dir(f.res.Chart.File), release.PublicKeyFile)
		byTag := send.Repository + ":" + send.Tag
		out, code := runCmd(t, root, os.Environ(), bin, "verify", "--key", pub, "--recursive", byTag, strings.TrimPrefix(f.res.Chart.Ref, "oci://")+"@"+f.res.Chart.Digest)
		if code != 0 || strings.Count(out, "OK   ") != 1+len(send.Platforms)+1 || !strings.Contains(out, "provenance ") {
			t.Errorf("release verify: exit %d\n%s", code, out)
		}
		out, code = runCmd(t, root, os.Environ(), bin, "verify", "--key", wrongPub, send.Ref())
		if code != 1 || !strings.Contains(out, "does not verify with key") {
			t.Errorf("release verify with a wrong key: exit %d, want 1\n%s", code, out)
		}
		out, code = runCmd(t, root, os.Environ(), bin, "verify", "--key", pub, gkRef.String())
		if code != 1 || !strings.Contains(out, "FAIL") {
			t.Errorf("release verify of the tampered image: exit %d, want 1\n%s", code, out)
		}
	})
}

// tamperEnvelope replaces old with new in an envelope's decoded payload and
// keeps its signature.
func tamperEnvelope(t *testing.T, env []byte, old, new string) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(e["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), old) {
		t.Fatalf("payload lacks %s", old)
	}
	e["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(string(body), old, new)))
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
