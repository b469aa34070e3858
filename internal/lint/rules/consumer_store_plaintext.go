package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "consumer-store-plaintext",
		Severity: Error,
		Category: CatSubscriber,
		Summary:  "The violations consumer's PostgreSQL store URL has its password written in the manifest.",
		Doc: "A password in `--store postgres://user:password@host/db` (or `--store=…`), or in the " +
			"value of the `VIOLATIONS_STORE` variable, is in plain text in the workload, in Git and " +
			"in every `kubectl get`, and readable by anyone who can read the Deployment. So is a " +
			"`password` (or `sslpassword`) query parameter, and a password in the value of a " +
			"variable that the URL references as `$(VAR)`. A password from a Secret is not reported: " +
			"a `$(VAR)` whose variable is set with `valueFrom.secretKeyRef`, a `VIOLATIONS_STORE` " +
			"set that way, or `--store-file` naming a file mounted from a Secret. The finding shows " +
			"the URL with the password replaced by `xxxxx`.",
		Remediation: "Put the URL in a Secret and mount it as a file named by `--store-file` (what the chart " +
			"does with `consumer.store.postgres.existingSecret`), or set `VIOLATIONS_STORE` with " +
			"`valueFrom.secretKeyRef`; then change the password, which the manifest has exposed.",
		Check: checkConsumerStorePlaintext,
	})
}

func checkConsumerStorePlaintext(s *model.Setup, r *Reporter) {
	for _, sub := range s.Subscribers() {
		if sub.Consumer == nil {
			continue
		}
		seen := map[string]bool{}
		for _, sv := range sub.Consumer.StoreValues() {
			if !isPostgresURL(sv.Value) {
				continue
			}
			part, ok := sv.Value.LiteralPassword()
			if !ok || seen[part.Field.String()] {
				continue
			}
			seen[part.Field.String()] = true
			where := ""
			if part.Var != "" {
				where = " (in the value of env " + part.Var + ")"
			}
			r.Report(sub.Workload.Obj, part.Field, "violations consumer container %q has the PostgreSQL store URL %q (%s) with its password written in the manifest%s; read it from a Secret",
				sub.Container.Name, model.RedactURL(sv.Value.String()), string(sv.From), where)
		}
	}
}

// isPostgresURL says whether a store URL is PostgreSQL's (postgres:// or
// postgresql://), its scheme written in the manifest.
func isPostgresURL(v model.Value) bool {
	s, _ := v.Expanded()
	scheme, _, ok := strings.Cut(s, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}
