package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// In-toto and SLSA type URIs.
const (
	// StatementType is an in-toto v1 statement's _type.
	StatementType = "https://in-toto.io/Statement/v1"
	// SLSAProvenanceV1 is SLSA provenance v1's predicate type.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
)

// Statement is an in-toto v1 statement about Subject.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is an artifact a statement is about: a name and its digests
// ({"sha256": HEX}).
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// NewStatement is the statement of predicate (marshalled as JSON) about
// subjects.
func NewStatement(predicateType string, predicate any, subjects ...Subject) (Statement, error) {
	b, err := json.Marshal(predicate)
	if err != nil {
		return Statement{}, fmt.Errorf("%s predicate: %w", predicateType, err)
	}
	return Statement{Type: StatementType, Subject: subjects, PredicateType: predicateType, Predicate: b}, nil
}

// ImageSubject is the subject for an image: its repository and digest.
func ImageSubject(repository string, digest v1.Hash) Subject {
	return Subject{Name: repository, Digest: map[string]string{digest.Algorithm: digest.Hex}}
}

// Covers reports whether digest is one of the statement's subjects.
func (s Statement) Covers(digest v1.Hash) bool {
	return slices.ContainsFunc(s.Subject, func(sub Subject) bool { return sub.Digest[digest.Algorithm] == digest.Hex })
}

// Provenance is SLSA provenance v1's predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what was built and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   map[string]any       `json:"externalParameters"`
	InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ResourceDescriptor is an in-toto resource descriptor.
type ResourceDescriptor struct {
	URI              string            `json:"uri,omitempty"`
	Digest           map[string]string `json:"digest,omitempty"`
	Name             string            `json:"name,omitempty"`
	DownloadLocation string            `json:"downloadLocation,omitempty"`
	MediaType        string            `json:"mediaType,omitempty"`
	Annotations      map[string]any    `json:"annotations,omitempty"`
}

// RunDetails is who built it and when.
type RunDetails struct {
	Builder    Builder              `json:"builder"`
	Metadata   *BuildMetadata       `json:"metadata,omitempty"`
	Byproducts []ResourceDescriptor `json:"byproducts,omitempty"`
}

// Builder identifies the build platform.
type Builder struct {
	ID                  string               `json:"id"`
	Version             map[string]string    `json:"version,omitempty"`
	BuilderDependencies []ResourceDescriptor `json:"builderDependencies,omitempty"`
}

// BuildMetadata are the run's invocation ID and times.
type BuildMetadata struct {
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// Attest signs the statement as a DSSE envelope (payloadType
// InTotoPayloadType, ECDSA over PAE) and returns the envelope's JSON, an
// .att layer.
func (s *Signer) Attest(ctx context.Context, st Statement) ([]byte, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	es, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: s.sv, Pub: s.pub})
	if err != nil {
		return nil, err
	}
	env, err := es.SignPayload(ctx, InTotoPayloadType, body)
	if err != nil {
		return nil, fmt.Errorf("signing the in-toto statement: %w", err)
	}
	return json.Marshal(env)
}

// VerifyAttestation checks an .att layer's envelope: payloadType
// InTotoPayloadType, a signature over PAE(payloadType, payload) valid with
// the public key, an in-toto v1 statement whose subjects hold digest. It
// returns the statement.
func (v *Verifier) VerifyAttestation(ctx context.Context, envelope []byte, digest v1.Hash) (*Statement, error) {
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE envelope: payloadType %q, want %q", env.PayloadType, InTotoPayloadType)
	}
	ev, err := dsse.NewEnvelopeVerifier(&sigdsse.VerifierAdapter{SignatureVerifier: v.v, Pub: v.pub})
	if err != nil {
		return nil, err
	}
	if _, err := ev.Verify(ctx, &env); err != nil {
		return nil, fmt.Errorf("DSSE envelope does not verify with key %s: %w", KeyID(v.pub), err)
	}
	body, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("DSSE payload: %w", err)
	}
	var st Statement
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if st.Type != StatementType {
		return &st, fmt.Errorf("in-toto statement: _type %q, want %q", st.Type, StatementType)
	}
	if !st.Covers(digest) {
		return &st, fmt.Errorf("in-toto statement: its subjects %v do not include %s", st.Subject, digest)
	}
	return &st, nil
}

// Provenance decodes the statement's predicate as SLSA provenance v1.
func (s Statement) Provenance() (*Provenance, error) {
	if s.PredicateType != SLSAProvenanceV1 {
		return nil, fmt.Errorf("predicate type %s, not %s", s.PredicateType, SLSAProvenanceV1)
	}
	var p Provenance
	if err := json.Unmarshal(s.Predicate, &p); err != nil {
		return nil, fmt.Errorf("SLSA provenance: %w", err)
	}
	return &p, nil
}
