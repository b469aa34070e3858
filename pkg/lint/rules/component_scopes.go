package rules

import (
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-scopes",
		Severity: Error,
		Category: CatComponent,
		Summary:  "The audit's Component has scopes that exclude the audit's Dapr app-id.",
		Doc: "A Component with `scopes` is only loaded by the listed app-ids. If the audit's " +
			"app-id (its `dapr.io/app-id` annotation) is not listed, the audit's daprd does not load " +
			"the Component and every publish fails with \"pubsub not found\". Without a " +
			"`dapr.io/app-id` the app-id is the pod's name, which changes with every pod.",
		Remediation:     "Add the audit's app-id (for example `audit`) to `scopes`, or remove `scopes`.",
		Check:           checkComponentScopes,
		InputAuditsOnly: true,
	})
}

func checkComponentScopes(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes || !s.UsesDapr(a) {
			continue
		}
		c := s.ComponentOf(a)
		if c == nil || !c.HasScopes() {
			continue
		}
		id := a.AppID()
		if id == "" {
			r.Report(c.Obj, model.P("scopes"), "Component %q has scopes [%s], but the audit has no dapr.io/app-id, so its app-id is its pod's name",
				c.Name, strings.Join(c.Scopes, ", "))
			continue
		}
		if !slices.Contains(c.Scopes, id) {
			r.Report(c.Obj, model.P("scopes"), "Component %q has scopes [%s], which exclude the audit's app-id %q", c.Name, strings.Join(c.Scopes, ", "), id)
		}
	}
}
