package model

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"
)

// Namespace is a Namespace object among the inputs.
type Namespace struct {
	Obj    *Object
	Name   string
	Labels map[string]string
}

// PodSecurity is the Pod Security Admission policy of a namespace.
type PodSecurity struct {
	Namespace string
	// Obj is the Namespace object; nil when it is not among the inputs.
	Obj *Object
	// Assumed: the Namespace is not among the inputs, and its policy is
	// taken to be what Gatekeeper's own manifest (deploy/gatekeeper.yaml)
	// labels gatekeeper-system with: enforce restricted.
	Assumed bool
	// Policy is what PodSecurity evaluates (api.PolicyToEvaluate over the
	// namespace's labels, with the API server's defaults: privileged).
	Policy api.Policy
	// Labels are the namespace's pod-security.kubernetes.io/ labels.
	Labels map[string]string
	// Invalid describes labels PodSecurity does not accept (it then uses
	// restricted, or privileged for warn and audit).
	Invalid []string
}

// PodSecurity returns the PodSecurity policy of namespace ns.
func (s *Setup) PodSecurity(ns string) *PodSecurity {
	n := s.Namespaces[ns]
	if n == nil {
		restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
		return &PodSecurity{Namespace: ns, Assumed: true, Policy: api.Policy{Enforce: restricted, Warn: restricted, Audit: restricted}}
	}
	privileged := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	ps := &PodSecurity{Namespace: ns, Obj: n.Obj, Labels: map[string]string{}}
	for k, v := range n.Labels {
		if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			ps.Labels[k] = v
		}
	}
	var errs field.ErrorList
	ps.Policy, errs = api.PolicyToEvaluate(n.Labels, api.Policy{Enforce: privileged, Warn: privileged, Audit: privileged})
	for _, e := range errs {
		ps.Invalid = append(ps.Invalid, e.Error())
	}
	return ps
}

// Enforces describes the enforce mode for messages (PodSecurity
// "restricted:v1.24", which Namespace x enforces) and how that is known.
func (p *PodSecurity) Enforces() string {
	if p.Assumed {
		return fmt.Sprintf("PodSecurity %q, which namespace %q enforces (assumed: its Namespace is not among the inputs, and Gatekeeper's own manifest labels it %s=restricted)",
			string(p.Policy.Enforce.Level), p.Namespace, api.EnforceLevelLabel)
	}
	return fmt.Sprintf("PodSecurity %q, which Namespace %s enforces (%s)", p.Policy.Enforce.String(), p.Namespace, p.Label(api.EnforceLevelLabel))
}

// Label renders a level label as the namespace has it.
func (p *PodSecurity) Label(key string) string {
	v, ok := p.Labels[key]
	if !ok {
		return "no " + key + " label: privileged"
	}
	return key + "=" + v
}
