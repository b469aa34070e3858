package rules

import (
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// auditObject is an audit Deployment in gatekeeper-system running image
// with args, the pod template's annotations and the manager's extra
// fields (volumeMounts, securityContext, ...).
func auditObject(image string, args []string, annotations map[string]any, manager map[string]any) render.Object {
	list := make([]any, len(args))
	for i, a := range args {
		list[i] = a
	}
	c := map[string]any{"name": "manager", "image": image, "args": list}
	for k, v := range manager {
		c[k] = v
	}
	return render.Object{Source: "audit.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "gatekeeper-audit", "namespace": "gatekeeper-system"},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"annotations": annotations},
			"spec": map[string]any{
				"securityContext": map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
				"containers":      []any{c},
			},
		}},
	}}
}

func namespaceObject(name string, labels map[string]any) render.Object {
	meta := map[string]any{"name": name}
	if labels != nil {
		meta["labels"] = labels
	}
	return render.Object{Source: "ns.yaml", Line: 1, Obj: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta}}
}

// TestPodSecurity: the policy of the audit's namespace, from its labels
// as PodSecurity reads them, or assumed restricted without the Namespace.
func TestPodSecurity(t *testing.T) {
	tests := []struct {
		name                 string
		ns                   *render.Object
		assumed              bool
		enforce, warn, audit string
		invalid              int
		enforcesContains     string
	}{
		{"no Namespace", nil, true, "restricted:latest", "restricted:latest", "restricted:latest", 0, "assumed: its Namespace is not among the inputs"},
		{"no labels", ptr(namespaceObject("gatekeeper-system", nil)), false, "privileged:latest", "privileged:latest", "privileged:latest", 0, ""},
		{"Gatekeeper's manifest", ptr(namespaceObject("gatekeeper-system", map[string]any{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.24",
			"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted",
		})), false, "restricted:v1.24", "restricted:latest", "restricted:latest", 0, "pod-security.kubernetes.io/enforce=restricted"},
		{"baseline warns baseline", ptr(namespaceObject("gatekeeper-system", map[string]any{"pod-security.kubernetes.io/enforce": "baseline"})),
			false, "baseline:latest", "baseline:latest", "privileged:latest", 0, ""},
		{"invalid level: restricted", ptr(namespaceObject("gatekeeper-system", map[string]any{"pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/warn": 3})),
			false, "restricted:latest", "privileged:latest", "privileged:latest", 1, ""},
		{"another namespace", ptr(namespaceObject("other", map[string]any{"pod-security.kubernetes.io/enforce": "baseline"})),
			true, "restricted:latest", "restricted:latest", "restricted:latest", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := []render.Object{auditObject("openpolicyagent/gatekeeper:v3.17.0", nil, nil, nil)}
			if tc.ns != nil {
				objs = append(objs, *tc.ns)
			}
			s := model.NewSetup(model.DefaultOptions(), objs)
			ps := s.PodSecurity("gatekeeper-system")
			if ps.Assumed != tc.assumed || ps.Policy.Enforce.String() != tc.enforce || ps.Policy.Warn.String() != tc.warn || ps.Policy.Audit.String() != tc.audit {
				t.Errorf("assumed %v enforce %s warn %s audit %s, want %v %s %s %s", ps.Assumed, ps.Policy.Enforce, ps.Policy.Warn, ps.Policy.Audit,
					tc.assumed, tc.enforce, tc.warn, tc.audit)
			}
			if len(ps.Invalid) != tc.invalid {
				t.Errorf("invalid %q, want %d", ps.Invalid, tc.invalid)
			}
			if tc.enforcesContains != "" && !strings.Contains(ps.Enforces(), tc.enforcesContains) {
				t.Errorf("Enforces() = %q, want it to contain %q", ps.Enforces(), tc.enforcesContains)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestPodSecurityRules: which rule reports the audit pod's missing
// sidecar seccomp profile, by the namespace's enforce label.
func TestPodSecurityRules(t *testing.T) {
	annotations := map[string]any{"dapr.io/enabled": "true"}
	manager := map[string]any{
		"securityContext": map[string]any{"allowPrivilegeEscalation": false, "runAsNonRoot": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}}},
	}
	tests := []struct {
		name   string
		labels map[string]any // nil: no Namespace
		want   map[string]int
	}{
		{"no Namespace: restricted assumed", nil, map[string]int{"audit-sidecar-seccomp": 1}},
		{"restricted", map[string]any{"pod-security.kubernetes.io/enforce": "restricted"}, map[string]int{"audit-sidecar-seccomp": 1}},
		{"restricted v1.18 has no seccomp check", map[string]any{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.18"},
			map[string]int{"audit-pod-security-unenforced": 1}},
		{"baseline", map[string]any{"pod-security.kubernetes.io/enforce": "baseline"}, map[string]int{"audit-pod-security-unenforced": 1}},
		{"privileged", map[string]any{"pod-security.kubernetes.io/enforce": "privileged"}, map[string]int{"audit-pod-security-unenforced": 1}},
		{"no labels", map[string]any{}, map[string]int{"audit-pod-security-unenforced": 1}},
	}
	// The pod sets its seccomp profile at pod level in auditObject: drop
	// it so that only the sidecar annotation matters.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			audit := auditObject("openpolicyagent/gatekeeper:v3.17.0", []string{"--operation=audit"}, annotations, manager)
			spec := audit.Obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			spec["securityContext"] = map[string]any{}
			sc := manager["securityContext"].(map[string]any)
			sc["seccompProfile"] = map[string]any{"type": "RuntimeDefault"}
			objs := []render.Object{audit}
			if tc.labels != nil {
				objs = append(objs, namespaceObject("gatekeeper-system", tc.labels))
			}
			s := model.NewSetup(model.DefaultOptions(), objs)
			got := map[string]int{}
			for _, id := range []string{"audit-sidecar-seccomp", "audit-pod-security", "audit-pod-security-unenforced"} {
				rep := NewReporter(Get(id))
				Get(id).Run(s, rep)
				for _, f := range rep.Findings() {
					got[id]++
					if f.Subject == nil || len(f.Path) == 0 {
						t.Errorf("%s: finding without object or field: %+v", id, f)
					}
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings %v, want %v", got, tc.want)
			}
			for id, n := range tc.want {
				if got[id] != n {
					t.Errorf("findings %v, want %v", got, tc.want)
				}
			}
		})
	}
}
