package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release/sign"
)

// errVerify is a failed verification (exit 1, the reasons printed).
var errVerify = errors.New("verification failed")

// runVerify is `release verify --key PUB IMAGE...`: each IMAGE (by tag or
// digest; a tag is resolved to its digest first) must have a signature
// valid with the key and, unless -provenance=false, SLSA provenance whose
// subjects hold its digest.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: release verify --key PUB.pem IMAGE...\n\nPulls each IMAGE's cosign signature (tag sha256-HEX.sig) and SLSA provenance\n(sha256-HEX.att) from its registry and verifies them with the public key.\n\n")
		fs.PrintDefaults()
	}
	key := fs.String("key", "", "PEM public key of the release's signing key (the release writes it as signing-key.pub next to release.json)")
	provenance := fs.Bool("provenance", true, "require SLSA provenance v1 too")
	recursive := fs.Bool("recursive", false, "also verify every platform image of an index")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("verify: --key and at least one IMAGE are required")
	}
	v, err := sign.LoadVerifier(*key)
	if err != nil {
		return err
	}
	vo := sign.VerifyOptions{}
	if *provenance {
		vo.PredicateTypes = []string{sign.SLSAProvenanceV1}
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	failed := false
	for _, arg := range fs.Args() {
		refs, err := resolve(arg, *recursive, opts)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", arg, err)
			failed = true
			continue
		}
		for _, ref := range refs {
			got, err := v.Verify(ctx, ref, vo, opts...)
			if err != nil {
				fmt.Fprintf(stderr, "FAIL %v\n", err)
				failed = true
				continue
			}
			fmt.Fprintf(stdout, "OK   %s\n     signature  %s (key %s)\n", ref, got.SignatureTag, sign.KeyID(v.PublicKey()))
			if st, ok := got.Statement(sign.SLSAProvenanceV1); ok {
				line := got.AttestationTag.String()
				if p, err := st.Provenance(); err == nil {
					line += fmt.Sprintf(" (builder %s, build type %s, %d resolved dependencies)", p.RunDetails.Builder.ID, p.BuildDefinition.BuildType, len(p.BuildDefinition.ResolvedDependencies))
				}
				fmt.Fprintf(stdout, "     provenance %s\n", line)
			}
		}
	}
	if failed {
		return errVerify
	}
	return nil
}

// resolve is the image's digest reference (a tag read from the registry)
// and, with recursive, its platform images' too.
func resolve(arg string, recursive bool, opts []remote.Option) ([]name.Digest, error) {
	arg = strings.TrimPrefix(arg, "oci://")
	ref, err := name.ParseReference(arg)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return nil, fmt.Errorf("the registry serves %s for %s", desc.Digest, ref)
	}
	out := []name.Digest{ref.Context().Digest(desc.Digest.String())}
	if !recursive || !desc.MediaType.IsIndex() {
		return out, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, m := range im.Manifests {
		out = append(out, ref.Context().Digest(m.Digest.String()))
	}
	return out, nil
}
