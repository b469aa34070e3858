package rules

import (
	"k8s.io/pod-security-admission/api"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "audit-sidecar-seccomp",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit pod has Dapr enabled but no dapr.io/sidecar-seccomp-profile-type, so the injected sidecar violates PodSecurity restricted, which its namespace enforces.",
		Doc: "Gatekeeper's namespace enforces PodSecurity `restricted` (Gatekeeper's manifest labels it " +
			"`pod-security.kubernetes.io/enforce: restricted`), which requires a seccomp profile for " +
			"every container. Dapr's injector sets one on daprd only when the pod has " +
			"`dapr.io/sidecar-seccomp-profile-type`, and the pod is rejected otherwise. A pod-level " +
			"`securityContext.seccompProfile` also covers the sidecar and satisfies this rule. When the " +
			"Namespace is among the inputs its `pod-security.kubernetes.io/enforce` label decides: the " +
			"rule reports only under `restricted` (at the `enforce-version` label's version); under " +
			"`baseline`, `privileged` or no label the missing profile is a warning of " +
			"`audit-pod-security-unenforced`. Without the Namespace, `restricted` is assumed.",
		Remediation:     "Annotate the audit pod template with `dapr.io/sidecar-seccomp-profile-type: \"RuntimeDefault\"`.",
		Check:           checkAuditSidecarSeccomp,
		InputAuditsOnly: true,
	})
}

func checkAuditSidecarSeccomp(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !sidecarSeccompMissing(a.Workload) {
			continue
		}
		ps := s.PodSecurity(a.Namespace)
		if ps.Policy.Enforce.Level != api.LevelRestricted || !failsSidecarSeccomp(s, a, ps.Policy.Enforce) {
			continue // audit-pod-security-unenforced
		}
		r.Report(a.Obj, a.AnnotationPath(model.AnnSeccompProfile), "%s has Dapr enabled but no %s annotation: the injected daprd container gets no seccompProfile and violates %s",
			a.Describe(), model.AnnSeccompProfile, ps.Enforces())
	}
}

// failsSidecarSeccomp says whether the injected daprd fails the
// seccompProfile check at lv (true when the pod does not decode: the
// annotation is missing all the same).
func failsSidecarSeccomp(s *model.Setup, a *model.Audit, lv api.LevelVersion) bool {
	fails, err := podSecurityFailures(s, a, lv)
	if err != nil {
		return true
	}
	for _, f := range fails {
		if f.sidecarSeccomp(a) {
			return true
		}
	}
	return false
}

// sidecarSeccompMissing: Dapr is enabled, the annotation is absent or
// empty, and the pod sets no seccomp profile that daprd would inherit.
func sidecarSeccompMissing(w *model.Workload) bool {
	if !w.DaprEnabled() || w.Annotations[model.AnnSeccompProfile] != "" {
		return false
	}
	sc, _ := w.Spec["securityContext"].(map[string]any)
	sp, _ := sc["seccompProfile"].(map[string]any)
	t, _ := sp["type"].(string)
	return t != "RuntimeDefault" && t != "Localhost"
}
