// Package violation defines the message that Gatekeeper's audit publishes for
// every violation it finds (eventType "violation_audited"). Its JSON encoding
// is the wire format of the Gatekeeper pubsub documentation: field names and
// order as Gatekeeper's own PubsubMsg, empty fields omitted.
package violation

import "time"

// EventType is the eventType of an audit violation.
const EventType = "violation_audited"

// Violation is one audit violation as published on the audit channel.
type Violation struct {
	// ID is the audit run's timestamp (RFC 3339). Every violation of one
	// audit run shares it, so it does not identify a single violation.
	ID string `json:"id,omitempty"`
	// Details is whatever the constraint's Rego put in details.
	Details any `json:"details,omitempty"`
	// EventType is always "violation_audited".
	EventType string `json:"eventType,omitempty"`
	// Group, Version, Kind, Name and Namespace identify the constraint.
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Message is the violation message.
	Message string `json:"message,omitempty"`
	// EnforcementAction is the constraint's enforcement action.
	EnforcementAction string `json:"enforcementAction,omitempty"`
	// ConstraintAnnotations are the constraint's annotations.
	ConstraintAnnotations map[string]string `json:"constraintAnnotations,omitempty"`
	// The Resource fields identify the object in violation.
	ResourceGroup      string            `json:"resourceGroup,omitempty"`
	ResourceAPIVersion string            `json:"resourceAPIVersion,omitempty"`
	ResourceKind       string            `json:"resourceKind,omitempty"`
	ResourceNamespace  string            `json:"resourceNamespace,omitempty"`
	ResourceName       string            `json:"resourceName,omitempty"`
	ResourceLabels     map[string]string `json:"resourceLabels,omitempty"`
	// EnforcementActions lists the scoped enforcement actions; sent by
	// newer Gatekeeper releases for scoped enforcement.
	EnforcementActions []string `json:"enforcementActions,omitempty"`
}

// Example returns the violation shown in the Gatekeeper pubsub
// documentation, with the audit run's timestamp set to at.
func Example(at time.Time) Violation {
	return Violation{
		ID:                 at.UTC().Format(time.RFC3339),
		Details:            map[string]any{"missing_labels": []any{"test"}},
		EventType:          EventType,
		Group:              "constraints.gatekeeper.sh",
		Version:            "v1beta1",
		Kind:               "K8sRequiredLabels",
		Name:               "pod-must-have-test",
		Message:            `you must provide labels: {"test"}`,
		EnforcementAction:  "deny",
		ResourceAPIVersion: "v1",
		ResourceKind:       "Pod",
		ResourceNamespace:  "nginx",
		ResourceName:       "nginx-deployment-cd55c47f5-2b84x",
		ResourceLabels:     map[string]string{"app": "nginx", "pod-template-hash": "cd55c47f5"},
	}
}

// Messages of the audit run's start and end, which Gatekeeper v3.20 and
// later publish on the audit channel around the violations (export.md of
// Gatekeeper's documentation; pkg/audit of v3.23).
const (
	AuditStarted   = "audit is started"
	AuditCompleted = "audit is completed"
)

// AuditEvent is such a start or end message: the audit run's ID (the same
// as its violations') and the message.
type AuditEvent struct {
	ID      string `json:"id,omitempty"`
	Message string `json:"message"`
}
