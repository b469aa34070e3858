package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "connection-wrong-namespace",
		Severity: Error,
		Category: CatConnection,
		Summary:  "The connection config the audit uses exists, but in another namespace than the audit's.",
		Doc: "The audit only reads connection configs from its own namespace (Gatekeeper's, " +
			"`gatekeeper-system` by default). A ConfigMap with the right name in another namespace " +
			"is ignored. An object without `metadata.namespace` goes to the namespace given by " +
			"`--namespace` (default `default`), as with kubectl and Helm.",
		Remediation: "Set `metadata.namespace` of the connection config to the audit's namespace " +
			"(or `--gatekeeper-namespace` when the audit Deployment is not linted with it).",
		Check: checkConnectionWrongNamespace,
	})
}

func checkConnectionWrongNamespace(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes || s.ConnectionOf(a) != nil {
			continue
		}
		for _, c := range s.Connections {
			if c.Name != a.Connection || c.Namespace == a.Namespace {
				continue
			}
			field := model.P("metadata", "namespace")
			how := "is in namespace %q"
			if c.Obj.Namespace() == "" {
				field = model.P("metadata")
				how = "has no namespace, so it goes to %q"
			}
			r.Report(c.Obj, field, "connection config %q "+how+", but %s reads it from namespace %q",
				c.Name, c.Namespace, a.Describe(), a.Namespace)
		}
	}
}
