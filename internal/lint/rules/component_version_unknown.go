package rules

import (
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "component-version-unknown",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A pubsub Component's spec.version is one daprd does not have for its type (v2 where only v1 exists).",
		Doc: "daprd looks a Component up by its type and `spec.version` together. Every pubsub type of Dapr " +
			schemas.DaprRelease + " exists in one version only, `v1` (daprd also takes `v0` or no version " +
			"for it, in any letter case); any other version is a component daprd does not have, so it logs " +
			"\"couldn't find message bus pubsub.redis/v2\" and, unless `spec.ignoreErrors: true`, exits.",
		Remediation: "Set `spec.version: v1`.",
		Check:       checkComponentVersionUnknown,
	})
}

func checkComponentVersionUnknown(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		known := schemas.DaprPubsubVersions(c.Type)
		if known == nil || slices.Contains(known, strings.ToLower(c.Version)) {
			continue
		}
		r.Report(c.Obj, model.P("spec", "version"), "Component %q (type %s) has spec.version %q, which daprd %s does not have for that type (it has %q): its daprd fails to load it and exits",
			c.Name, c.Type, c.Version, Prose(schemas.DaprRelease), Prose(known[0]))
	}
}
