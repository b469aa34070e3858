package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "component-not-pubsub",
		Severity: Error,
		Category: CatComponent,
		Summary:  "The Component named by config.component is not a pubsub component.",
		Doc: "The audit publishes with Dapr's pubsub API, which only uses components whose " +
			"`spec.type` starts with `pubsub.` (for example `pubsub.redis`). A state store or " +
			"binding of the same name makes every publish fail.",
		Remediation: "Point `config.component` at a pubsub Component, or give the Component a " +
			"`pubsub.*` type.",
		Check: checkComponentNotPubsub,
	})
}

func checkComponentNotPubsub(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes || !s.UsesDapr(a) {
			continue
		}
		c := s.ComponentOf(a)
		if c == nil || c.Type == "" || c.IsPubsub() {
			continue
		}
		ref, _ := s.PubsubOf(a)
		r.Report(c.Obj, model.P("spec", "type"), "Component %q is the audit's pubsub (%s), but its type %q is not pubsub.*", c.Name, Prose(ref.By), c.Type)
	}
}
