package rules

import (
	"fmt"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "connection-not-found",
		Severity: Error,
		Category: CatConnection,
		Summary:  "The audit publishes, but no connection config has the name given by --audit-connection in the audit's namespace.",
		Doc: "Gatekeeper's audit reads the connection config named by `--audit-connection` " +
			"(default `audit-connection`) from its own namespace. When there is none, the audit " +
			"logs an error and never delivers a violation. When the audit Deployment is not among " +
			"the inputs, the audit is assumed to run in `--gatekeeper-namespace` with the " +
			"`--audit-connection` given to pubsub-lint, and to publish whenever a connection config " +
			"is among the inputs. Without the connection config the driver is unknown to a Gatekeeper " +
			"that knows more than one (v3.20+: dapr and disk): the checks of the Dapr side are then not " +
			"run, and the finding says so.",
		Remediation: "Name the connection ConfigMap (or Connection) exactly as `--audit-connection`, " +
			"or change the flag; the finding suggests near names.",
		Check: checkConnectionNotFound,
	})
}

func checkConnectionNotFound(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes || s.ConnectionOf(a) != nil {
			continue
		}
		var names []string
		elsewhere, unnamed := false, false
		for _, c := range s.Connections {
			switch {
			case c.Name == a.Connection:
				elsewhere = true
			case c.Name == "":
				unnamed = unnamed || c.Namespace == a.Namespace
			default:
				names = append(names, c.Name)
			}
		}
		if elsewhere {
			continue // connection-wrong-namespace
		}
		hint := didYouMean(a.Connection, names)
		if unnamed {
			// Gatekeeper's chart (v3.20+) names its Connection after
			// audit.connection, which its values.yaml leaves unset.
			hint += Prose(fmt.Sprintf("; a connection config without metadata.name is there (Gatekeeper's chart names its Connection after audit.connection: set it to %s)", a.Connection))
		}
		if drivers := model.DriversKnownBy(a.Version); len(drivers) > 1 && !s.UsesDapr(a) {
			hint += Prose(fmt.Sprintf("; Gatekeeper %s knows the drivers %s, so without the connection config the checks of the Dapr side were not run", a.Version, strings.Join(drivers, ", ")))
		}
		const format = "%s publishes through connection %q, but no connection config of that name is in namespace %q%s"
		if !a.Assumed {
			r.Report(a.Obj, a.FlagPath(model.FlagConnection), format, a.Describe(), a.Connection, a.Namespace, hint)
			continue
		}
		for _, c := range s.Connections {
			r.Report(c.Obj, model.P("metadata", "name"), format, a.Describe(), a.Connection, a.Namespace, hint)
			break
		}
	}
}
