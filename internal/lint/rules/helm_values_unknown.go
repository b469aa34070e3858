package rules

import (
	"fmt"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "helm-values-unknown",
		Severity: Warning,
		Category: CatAudit,
		Summary:  "A key given with -f or --set is not in the chart's values.yaml.",
		Doc: "Helm ignores values a chart's templates do not read, so a misspelt key (for example " +
			"`audit.enablePubSub` for Gatekeeper's `audit.enablePubsub`) silently changes nothing. For charts " +
			"without a values.schema.json (Gatekeeper's own chart has none), every key given with `-f`/`--values` " +
			"or `--set` must be in the chart's values.yaml. Keys below a map that is empty there, or whose keys look " +
			"like labels or annotations, are free-form, and so are `global` and the keys of subcharts. A chart with " +
			"a schema is checked by Helm with it.",
		Remediation: "Use the key the chart defines (the message suggests the closest one), or remove it.",
		Check:       checkHelmValuesUnknown,
	})
}

func checkHelmValuesUnknown(s *model.Setup, r *Reporter) {
	for _, u := range s.Options.UnknownValues {
		msg := fmt.Sprintf("chart %s: values key %q is not in the chart's values.yaml: Helm ignores it", u.Chart, u.Key)
		if u.Suggestion != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", u.Suggestion)
		}
		r.Report(nil, nil, "%s", msg)
	}
}
