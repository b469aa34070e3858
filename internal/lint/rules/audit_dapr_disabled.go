package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "audit-dapr-disabled",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit publishes, but its pod template lacks dapr.io/enabled: \"true\".",
		Doc: "The dapr driver publishes through a daprd sidecar in the audit pod, which Dapr's " +
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
		r.Report(a.Obj, a.AnnotationPath("dapr.io/enabled"), "%s publishes, but its pod template lacks the annotation dapr.io/enabled: \"true\"%s, so no daprd sidecar is injected", a.Describe(), enabledWritten(a.Workload))
	}
}

// enabledWritten says what was written instead of dapr.io/enabled on the
// pod template: a misspelt key, or the key on the workload itself.
func enabledWritten(w *model.Workload) Prose {
	for _, k := range sortedKeys(w.Annotations) {
		if strings.HasPrefix(k, "dapr.io/") && len(nearest(k, []string{"dapr.io/enabled"})) > 0 && !slices.Contains(schemas.DaprAnnotations(), k) {
			return Prose(fmt.Sprintf(" (it has %s: %q, a key Dapr does not read)", k, w.Annotations[k]))
		}
	}
	if len(w.Template) > 0 {
		if v, ok := w.Obj.Annotations()["dapr.io/enabled"]; ok {
			return Prose(fmt.Sprintf(" (dapr.io/enabled: %q is on the %s itself, not its pod template)", v, w.Obj.Kind()))
		}
	}
	return ""
}
