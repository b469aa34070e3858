package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "component-type-unknown",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A Component's pubsub type is none that daprd loads (a misspelt type such as pubsub.reddis).",
		Doc: "daprd loads a Component by its `spec.type` (compared in any letter case) from the " +
			"components it was built with. For a type it does not have it logs \"couldn't find " +
			"message bus\" and, unless the Component sets `spec.ignoreErrors: true`, exits: the " +
			"sidecar crash-loops and neither the audit nor the subscriber gets any message. The " +
			"types are those of Dapr " + schemas.DaprRelease + " (the components daprd registers), aliases included.",
		Remediation: "Write one of the pubsub types daprd has, for example `pubsub.redis`, `pubsub.jetstream`, " +
			"`pubsub.rabbitmq` or `pubsub.kafka` (`pubsub-lint` suggests the nearest).",
		Check: checkComponentTypeUnknown,
	})
}

func checkComponentTypeUnknown(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		if !strings.HasPrefix(strings.ToLower(c.Type), "pubsub.") || schemas.IsDaprPubsubType(c.Type) {
			continue
		}
		r.Report(c.Obj, model.P("spec", "type"), "Component %q has spec.type %q, a pubsub type daprd %s does not have%s: its daprd fails to load it and exits",
			c.Name, c.Type, Prose(schemas.DaprRelease), didYouMean(c.Type, schemas.DaprPubsubTypes()))
	}
}
