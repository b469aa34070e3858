// Package model is what pubsub-lint's rules look at: the input objects
// classified into a Setup (Gatekeeper audits with their flags parsed as
// Gatekeeper's binary parses them, workloads, connection configs, Dapr
// Components, the sidecar injector, namespaces with their PodSecurity
// level), the defaults assumed for what the inputs do not show, and the
// field paths findings point at. It knows nothing of rules or findings.
package model

import (
	"fmt"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Object is an input object and the namespace it goes to.
type Object struct {
	render.Object
	// NS is metadata.namespace, or Options.Namespace when it has none
	// (where kubectl or Helm would put it).
	NS string
}

// Setup is everything the rules look at: the input objects and what they
// are in the pubsub setup.
type Setup struct {
	Options     Options
	Objects     []*Object
	Workloads   []*Workload
	Audits      []*Audit
	Connections []*Connection
	Components  []*Component
	// Injector is Dapr's sidecar injector when its Deployment is an input.
	Injector *Injector
	// Namespaces are the Namespace objects among the inputs, by name.
	Namespaces map[string]*Namespace
	// Secrets are the Secret objects among the inputs, by namespace/name.
	Secrets map[string]*Secret
}

// NewSetup classifies objects and builds the Setup from them.
func NewSetup(opts Options, objs []render.Object) *Setup {
	opts = opts.withDefaults()
	entries := make([]Entry, 0, len(objs))
	for _, o := range objs {
		entries = append(entries, Classify(o, opts.Namespace))
	}
	return Build(opts, entries)
}

// Build makes the Setup from classified objects, in their order.
// Irrelevant entries are left out. Without an audit Deployment among them,
// the Setup has an assumed audit (Audit.Assumed) as opts describe it.
func Build(opts Options, entries []Entry) *Setup {
	opts = opts.withDefaults()
	s := &Setup{Options: opts, Objects: make([]*Object, 0, len(entries)), Namespaces: map[string]*Namespace{}, Secrets: map[string]*Secret{}}
	var configMaps []*Object
	for _, e := range entries {
		o := e.Obj
		switch e.Class {
		case Irrelevant:
			continue
		case ClassConfigMap:
			configMaps = append(configMaps, o)
		case ClassConnection:
			s.Connections = append(s.Connections, newConnection(o))
		case ClassComponent:
			s.Components = append(s.Components, e.Component)
		case ClassNamespace:
			if _, dup := s.Namespaces[o.Name()]; !dup {
				s.Namespaces[o.Name()] = &Namespace{Obj: o, Name: o.Name(), Labels: o.Labels()}
			}
		case ClassWorkload:
			s.Workloads = append(s.Workloads, e.Workload)
		case ClassSecret:
			if _, dup := s.Secrets[o.NS+"/"+o.Name()]; !dup {
				s.Secrets[o.NS+"/"+o.Name()] = newSecret(o)
			}
		}
		s.Objects = append(s.Objects, o)
	}
	for _, w := range s.Workloads {
		if a := newAudit(w); a != nil {
			s.Audits = append(s.Audits, a)
		} else if inj := newInjector(w); inj != nil && s.Injector == nil {
			s.Injector = inj
		}
	}
	names := map[string]bool{opts.Assume.AuditConnection: true}
	for _, a := range s.Audits {
		names[a.Connection] = true
	}
	for _, o := range configMaps {
		data, _ := o.Obj["data"].(map[string]any)
		_, p := data["provider"]
		_, d := data["driver"]
		if p || d || names[o.Name()] {
			s.Connections = append(s.Connections, newConnection(o))
		}
	}
	if len(s.Audits) == 0 {
		s.Audits = append(s.Audits, assumedAudit(opts, len(s.Connections) > 0))
	}
	return s
}

// InputAudits returns the setup with only the audits whose Deployment is
// among the inputs (not Assumed); the setup itself when that is all of
// them.
func (s *Setup) InputAudits() *Setup {
	return s.AuditsWhere(func(a *Audit) bool { return !a.Assumed })
}

// DaprAudits returns the setup with only the audits that publish through
// Dapr (UsesDapr); the setup itself when that is all of them.
func (s *Setup) DaprAudits() *Setup {
	return s.AuditsWhere(s.UsesDapr)
}

// AuditsWhere returns the setup with only the audits keep accepts; the
// setup itself when it accepts all of them.
func (s *Setup) AuditsWhere(keep func(*Audit) bool) *Setup {
	var kept []*Audit
	for _, a := range s.Audits {
		if keep(a) {
			kept = append(kept, a)
		}
	}
	if len(kept) == len(s.Audits) {
		return s
	}
	cp := *s
	cp.Audits = kept
	return &cp
}

// DropAllCapabilities is what the injector does with the sidecar's capabilities.
func (s *Setup) DropAllCapabilities() bool {
	if s.Injector != nil {
		return s.Injector.DropAll
	}
	return s.Options.Assume.DropAllCapabilities()
}

// UsesSidecar says whether any workload among the inputs asks Dapr's
// injector for a sidecar.
func (s *Setup) UsesSidecar() bool {
	for _, w := range s.Workloads {
		if w.DaprEnabled() {
			return true
		}
	}
	return false
}

// ConnectionsIn returns the connection configs in namespace ns.
func (s *Setup) ConnectionsIn(ns string) []*Connection {
	var out []*Connection
	for _, c := range s.Connections {
		if c.Namespace == ns {
			out = append(out, c)
		}
	}
	return out
}

// ConnectionOf returns the connection config the audit uses, or nil.
func (s *Setup) ConnectionOf(a *Audit) *Connection {
	for _, c := range s.Connections {
		if c.Namespace == a.Namespace && c.Name == a.Connection {
			return c
		}
	}
	return nil
}

// PubsubRef is where the Dapr Component the audit publishes through is
// named.
type PubsubRef struct {
	Name  string
	Obj   *Object
	Field Path
	// By says what names it, for messages: "config.component", or
	// `pubsub-forward container "x" (--pubsub)`.
	By string
}

// PubsubOf returns where the Dapr Component the audit publishes through is
// named: config.component of its connection config, when that is valid;
// or, when the connection uses the disk driver, the --pubsub (default
// pubsub) of the pubsub-forward container in the audit pod, which sends the
// files through the pod's daprd. ok is false when neither names one.
func (s *Setup) PubsubOf(a *Audit) (ref PubsubRef, ok bool) {
	return PubsubThrough(a, s.ConnectionOf(a))
}

// PubsubThrough is PubsubOf with c as the audit's connection config (for
// example one in another namespace than the audit's).
func PubsubThrough(a *Audit, c *Connection) (ref PubsubRef, ok bool) {
	if c == nil {
		return PubsubRef{}, false
	}
	if c.IsDisk() {
		fs := a.Forwarders()
		if len(fs) == 0 {
			return PubsubRef{}, false
		}
		p := fs[0].Pubsub()
		return PubsubRef{Name: p.Value, Obj: a.Obj, Field: p.Field,
			By: fmt.Sprintf("%s container %q (--pubsub)", ForwarderName, fs[0].Container.Name)}, p.Value != ""
	}
	for _, k := range []connection.ProblemKind{connection.NoConfig, connection.Syntax, connection.Schema} {
		if _, bad := c.Problem(k); bad {
			return PubsubRef{}, false
		}
	}
	name, _ := c.Config["component"].(string)
	return PubsubRef{Name: name, Obj: c.Obj, Field: c.ConfigPath().Add(Pointer("/component")), By: "config.component"}, name != ""
}

// ComponentOf returns the Dapr Component the audit publishes through, or nil.
func (s *Setup) ComponentOf(a *Audit) *Component {
	ref, ok := s.PubsubOf(a)
	if !ok {
		return nil
	}
	return s.Component(a.Namespace, ref.Name)
}

// Component returns the Component ns/name, or nil.
func (s *Setup) Component(ns, name string) *Component {
	for _, c := range s.Components {
		if c.Namespace == ns && c.Name == name {
			return c
		}
	}
	return nil
}
