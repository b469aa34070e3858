package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-metadata-unknown",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "A pubsub Component has a metadata key its type does not know.",
		Doc: "Dapr ignores unknown metadata keys, so a misspelt key (`redisHosts`) silently falls " +
			"back to the default. A key is known when the type's metadata (components-contrib " +
			"v1.14.0's metadata.yaml) lists it, when the component's Go source reads it (the " +
			"version daprd v1.14.0 is built with: keys such as rabbitmq's `concurrencyMode` that " +
			"metadata.yaml omits, and deprecated keys Dapr still honours, reported by " +
			"`component-metadata-deprecated`), or when daprd reads it for every pubsub " +
			"(`consumerID`, `allowedTopics`, ...). Keys are compared case-insensitively, as Dapr " +
			"reads them.\n\n" +
			"The finding suggests a known key only when the unknown one is a likely misspelling of " +
			"it (a small edit distance), never a key of another meaning.",
		Remediation: "Use the key the finding suggests, or remove it.",
		Check:       checkComponentMetadataUnknown,
	})
}

func checkComponentMetadataUnknown(s *model.Setup, r *Reporter) {
	for c, f := range s.KnownComponents() {
		if !f.Closed {
			continue
		}
		for _, it := range c.Items {
			if it.Name == "" {
				continue
			}
			if _, ok := f.Props[strings.ToLower(it.Name)]; ok {
				continue
			}
			r.Report(c.Obj, c.ItemPath(it.Index, "name"), "unknown %s metadata key %q: Dapr ignores it%s", c.Type, it.Name,
				suggestKey(it.Name, f.Keys(), f.DeprecatedKeys()))
		}
	}
}
