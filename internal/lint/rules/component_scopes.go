package rules

import (
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-scopes",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A Component has scopes that exclude the Dapr app-id of the audit, or of a subscriber (the violations consumer) that uses it.",
		Doc: "A Component with a non-empty `scopes` list is only loaded by the listed app-ids (empty `scopes` allow every app). If the audit's " +
			"app-id (its `dapr.io/app-id` annotation) is not listed, the audit's daprd does not load " +
			"the Component and every publish fails with \"pubsub not found\". Without a " +
			"`dapr.io/app-id` the app-id is the pod's name, which changes with every pod.\n\n" +
			"The same holds for a subscriber with a daprd sidecar (`dapr.io/enabled`): the violations " +
			"consumer (`violations serve`, whose Component is its `--pubsub`, default `pubsub`) or a " +
			"container with `AUDIT_CHANNEL` like the project's fake-subscriber (`PUBSUB_COMPONENT`). " +
			"Its daprd loads the Component of that name from the subscriber's namespace only when the " +
			"scopes list the subscriber's app-id; otherwise the subscription fails and nothing arrives.",
		Remediation: "Add the app-id of the audit (for example `audit`) or of the subscriber (for example " +
			"`subscriber`) to `scopes`, or remove `scopes`.",
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
	type key struct {
		c *model.Component
		w *model.Workload
	}
	seen := map[key]bool{}
	for _, sub := range s.Subscribers() {
		w := sub.Workload
		if !w.DaprEnabled() || sub.Pubsub == "" {
			continue
		}
		c := s.Component(w.Obj.NS, sub.Pubsub)
		if c == nil || !c.HasScopes() || seen[key{c, w}] {
			continue
		}
		seen[key{c, w}] = true
		id := w.AppID()
		if id == "" {
			r.Report(c.Obj, model.P("scopes"), "Component %q has scopes [%s], but %s, whose %s subscribes through it, has no dapr.io/app-id, so its app-id is its pod's name",
				c.Name, strings.Join(c.Scopes, ", "), w.Obj.String(), sub.Describe())
			continue
		}
		if !slices.Contains(c.Scopes, id) {
			r.Report(c.Obj, model.P("scopes"), "Component %q has scopes [%s], which exclude the app-id %q of %s, whose %s subscribes through it: its daprd does not load the Component, so nothing arrives",
				c.Name, strings.Join(c.Scopes, ", "), id, w.Obj.String(), sub.Describe())
		}
	}
}
