package model

import (
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Options are what the Setup is built with besides the objects: where
// objects without a namespace go, what is assumed of what the inputs do
// not show, and what the loading learnt.
type Options struct {
	// Namespace is where objects without metadata.namespace go.
	Namespace string
	// Assume is what is assumed of what is not among the inputs.
	Assume Assumptions
	// UnknownValues are Helm values keys given for charts among the inputs
	// that the chart does not define (charts without a values schema).
	UnknownValues []render.UnknownValue
	// RunningPods are the Pods of the audits as they run in a cluster (live
	// mode): what the injector really added.
	RunningPods []render.Object
	// ForwarderMinRetention is the least time of audit runs the disk
	// driver should keep for pubsub-forward (maxAuditResults times
	// --audit-interval); 0 means DefaultForwarderMinRetention.
	ForwarderMinRetention time.Duration
}

// DefaultForwarderMinRetention is ForwarderMinRetention's default: the
// longest back-off the kubelet waits before restarting a crashing
// container (CrashLoopBackOff's cap, 5 minutes), so that a forwarder that
// crash-loops still finds the runs written between two of its starts.
const DefaultForwarderMinRetention = 5 * time.Minute

// Assumptions describe what is not among the inputs: the audit, when its
// Deployment is not, and Dapr's sidecar injector, when its Deployment is
// not. pubsub-lint takes them from flags (lint.Options.Assume) or the
// config file's assume section (a flag wins, Over); what neither gives
// takes DefaultAssumptions.
type Assumptions struct {
	// GatekeeperNamespace, AuditConnection and AuditChannel describe the
	// audit when its Deployment is not among the inputs
	// (--gatekeeper-namespace, --audit-connection, --audit-channel).
	GatekeeperNamespace string `json:"gatekeeperNamespace,omitempty"`
	AuditConnection     string `json:"auditConnection,omitempty"`
	AuditChannel        string `json:"auditChannel,omitempty"`
	// DaprDropAllCapabilities is Dapr's sidecar injector's
	// SIDECAR_DROP_ALL_CAPABILITIES (the Dapr chart's
	// dapr_sidecar_injector.sidecarDropALLCapabilities), used when the
	// injector's Deployment is not among the inputs
	// (--dapr-drop-all-capabilities); nil: not given.
	DaprDropAllCapabilities *bool `json:"daprDropAllCapabilities,omitempty"`
}

// Over returns a with what it does not give taken from b.
func (a Assumptions) Over(b Assumptions) Assumptions {
	if a.GatekeeperNamespace == "" {
		a.GatekeeperNamespace = b.GatekeeperNamespace
	}
	if a.AuditConnection == "" {
		a.AuditConnection = b.AuditConnection
	}
	if a.AuditChannel == "" {
		a.AuditChannel = b.AuditChannel
	}
	if a.DaprDropAllCapabilities == nil {
		a.DaprDropAllCapabilities = b.DaprDropAllCapabilities
	}
	return a
}

// DropAllCapabilities is DaprDropAllCapabilities, or DefaultAssumptions'
// when it is not given.
func (a Assumptions) DropAllCapabilities() bool {
	if a.DaprDropAllCapabilities == nil {
		return *DefaultAssumptions().DaprDropAllCapabilities
	}
	return *a.DaprDropAllCapabilities
}

// DefaultNamespace is where objects without metadata.namespace go, as
// kubectl and Helm put them.
const DefaultNamespace = "default"

// DefaultAssumptions are Gatekeeper's defaults (package connection) and
// the injector setting Gatekeeper's pubsub documentation requires.
func DefaultAssumptions() Assumptions {
	dropAll := true
	return Assumptions{
		GatekeeperNamespace:     connection.DefaultNamespace,
		AuditConnection:         connection.DefaultName,
		AuditChannel:            connection.DefaultChannel,
		DaprDropAllCapabilities: &dropAll,
	}
}

// DefaultOptions are DefaultNamespace and DefaultAssumptions.
func DefaultOptions() Options {
	return Options{Namespace: DefaultNamespace, Assume: DefaultAssumptions()}
}

// withDefaults fills the options left empty with DefaultOptions'.
func (opts Options) withDefaults() Options {
	def := DefaultOptions()
	if opts.Namespace == "" {
		opts.Namespace = def.Namespace
	}
	opts.Assume = opts.Assume.Over(def.Assume)
	if opts.ForwarderMinRetention <= 0 {
		opts.ForwarderMinRetention = DefaultForwarderMinRetention
	}
	return opts
}
