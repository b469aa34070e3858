package rules

import (
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "audit-generate-missing",
		Severity: Warning,
		Category: CatAudit,
		Summary:  "From Gatekeeper v3.18 the audit lists its operations without generate, and no other Gatekeeper process among the inputs runs it.",
		Doc: "From v3.18 only a Gatekeeper process with `--operation=generate` creates the constraint " +
			"CRDs from ConstraintTemplates (Gatekeeper's documentation of operations: \"This operation " +
			"enables CRD and VAP/VAPB generation\"). A process without `--operation` flags runs every " +
			"operation; an audit that lists its operations without `generate` relies on another " +
			"process, such as Gatekeeper's controller-manager, which Gatekeeper's chart runs with it. " +
			"Without one, no constraint kind exists: constraints cannot be created and the audit finds " +
			"nothing. The rule is silent when a Gatekeeper manager among the inputs runs `generate`.",
		Remediation: "Add `--operation=generate` to the audit (Gatekeeper's chart and this project's chart " +
			"render it from v3.18), or make sure another Gatekeeper process runs it.",
		Check:           checkAuditGenerateMissing,
		InputAuditsOnly: true,
	})
}

func checkAuditGenerateMissing(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if a.Version == nil || !a.Version.AtLeast(3, 18) {
			continue
		}
		ops, explicit := a.Operations()
		if !explicit || ops[model.OperationGenerate] || s.GeneratesElsewhere(a) {
			continue
		}
		var list []string
		for op := range ops {
			list = append(list, op)
		}
		sort.Strings(list)
		r.Report(a.Obj, a.FlagPath(model.FlagOperation), "%s (Gatekeeper %s) runs --operation=%s but not generate: no constraint CRDs will be created unless another Gatekeeper process runs --operation=generate",
			a.Describe(), a.Version, strings.Join(list, ","))
	}
}
