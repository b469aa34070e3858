package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "component-metadata-required",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A pubsub Component lacks a metadata key its type requires.",
		Doc: "Required keys come from `schemas/pubsub/<type>.schema.json`, generated from Dapr " +
			"components-contrib v1.14.0's metadata. A key counts when it is given by `value`, " +
			"`secretKeyRef` or `envRef`, in any letter case (Dapr matches keys case-insensitively).\n\n" +
			"One exception: Dapr's metadata marks `redisPassword` of `pubsub.redis` as required, " +
			"but Redis without a password works (it is how many development installs run), and " +
			"daprd starts without it. pubsub-lint does not report it missing.",
		Remediation: "Add the key under `spec.metadata`, with a `secretKeyRef` for secrets.",
		Check:       checkComponentMetadataRequired,
	})
}

// notReallyRequired lists keys Dapr's metadata marks required although the
// component works without them.
var notReallyRequired = map[string]map[string]bool{
	"pubsub.redis": {"redisPassword": true},
}

func checkComponentMetadataRequired(s *model.Setup, r *Reporter) {
	for c, f := range s.KnownComponents() {
		for _, key := range f.Required {
			if notReallyRequired[c.Type][key] {
				continue
			}
			if _, ok := c.Item(key); ok {
				continue
			}
			field := model.P("spec", "metadata")
			if len(c.Items) == 0 {
				field = model.P("spec")
			}
			r.Report(c.Obj, field, "%s requires metadata %q, which is missing", c.Type, key)
		}
	}
}
