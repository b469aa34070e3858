package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/model"

func init() {
	register(&Rule{
		ID:       "audit-dapr-disabled",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit publishes, but its pod template lacks dapr.io/enabled: \"true\".",
		Doc: "The dapr provider publishes through a daprd sidecar in the audit pod, which Dapr's " +
			"injector only adds to pods annotated `dapr.io/enabled: \"true\"`. Without it every " +
			"publish fails to connect.",
		Remediation: "Add the annotations of the quick start in Gatekeeper's pubsub documentation to the audit pod template: " +
			"`dapr.io/enabled: \"true\"`, `dapr.io/app-id: \"audit\"`, `dapr.io/metrics-port: \"9999\"`, " +
			"`dapr.io/sidecar-seccomp-profile-type: \"RuntimeDefault\"` (Gatekeeper chart: `auditPodAnnotations`).",
		Check:           checkAuditDaprDisabled,
		InputAuditsOnly: true,
		DaprOnly:        true,
	})
}

func checkAuditDaprDisabled(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes || a.DaprEnabled() {
			continue
		}
		if v, ok := a.Annotations["dapr.io/enabled"]; ok {
			r.Report(a.Obj, a.AnnotationPath("dapr.io/enabled"), "%s publishes, but dapr.io/enabled is %q, so no daprd sidecar is injected", a.Describe(), v)
			continue
		}
		r.Report(a.Obj, a.AnnotationPath("dapr.io/enabled"), "%s publishes, but its pod template lacks the annotation dapr.io/enabled: \"true\", so no daprd sidecar is injected", a.Describe())
	}
}
