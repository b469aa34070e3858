package rules

func init() {
	register(&Rule{
		ID:       "audit-sidecar-seccomp",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit pod has Dapr enabled but no dapr.io/sidecar-seccomp-profile-type, so the injected sidecar violates PodSecurity restricted.",
		Doc: "Gatekeeper's namespace enforces PodSecurity `restricted`, which requires a seccomp " +
			"profile for every container. Dapr's injector sets one on daprd only when the pod has " +
			"`dapr.io/sidecar-seccomp-profile-type`, and the pod is rejected otherwise. A pod-level " +
			"`securityContext.seccompProfile` also covers the sidecar and satisfies this rule.",
		Remediation: "Annotate the audit pod template with `dapr.io/sidecar-seccomp-profile-type: \"RuntimeDefault\"`.",
		Check:       checkAuditSidecarSeccomp,
	})
}

func checkAuditSidecarSeccomp(s *Setup, r *Reporter) {
	for _, a := range s.Audits {
		if a.Assumed || !sidecarSeccompMissing(a.Workload) {
			continue
		}
		r.Report(a.Obj, a.AnnotationPath(annSeccomp), "%s has Dapr enabled but no %s annotation: the injected daprd container gets no seccompProfile and violates PodSecurity \"restricted\"",
			a.Describe(), annSeccomp)
	}
}

const annSeccomp = "dapr.io/sidecar-seccomp-profile-type"

// sidecarSeccompMissing: Dapr is enabled, the annotation is absent or
// empty, and the pod sets no seccomp profile that daprd would inherit.
func sidecarSeccompMissing(w *Workload) bool {
	if !w.DaprEnabled() || w.Annotations[annSeccomp] != "" {
		return false
	}
	sc, _ := w.Spec["securityContext"].(map[string]any)
	sp, _ := sc["seccompProfile"].(map[string]any)
	t, _ := sp["type"].(string)
	return t != "RuntimeDefault" && t != "Localhost"
}
