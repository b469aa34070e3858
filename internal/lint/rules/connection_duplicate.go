package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "connection-duplicate",
		Severity: Error,
		Category: CatConnection,
		Summary:  "More than one connection config is in the audit's namespace.",
		Doc: "Gatekeeper's documentation: \"At the moment, only one connection config can exist for " +
			"audit.\" A second connection config (another ConfigMap with `data.provider`, a " +
			"Connection resource, or the same object given twice) in the audit's namespace makes " +
			"which one is used depend on the order the audit sees them.",
		Remediation: "Keep one connection config in the audit's namespace: the one named by " +
			"`--audit-connection`; delete or move the others.",
		Check: checkConnectionDuplicate,
	})
}

func checkConnectionDuplicate(s *model.Setup, r *Reporter) {
	seen := map[string]bool{}
	for _, a := range s.Audits {
		if seen[a.Namespace] {
			continue
		}
		seen[a.Namespace] = true
		conns := s.ConnectionsIn(a.Namespace)
		if len(conns) < 2 {
			continue
		}
		primary := s.ConnectionOf(a)
		if primary == nil {
			primary = conns[0]
		}
		for _, c := range conns {
			if c == primary {
				continue
			}
			what := "another connection config"
			if c.Name == primary.Name && c.Obj.Kind() == primary.Obj.Kind() {
				what = "a second copy of connection config"
			}
			r.Report(c.Obj, model.P("metadata", "name"), "%s %q in namespace %q besides %s (%s): only one connection config can exist for the audit",
				what, c.Name, a.Namespace, primary.Obj.String(), primary.Obj.Position())
		}
	}
}
