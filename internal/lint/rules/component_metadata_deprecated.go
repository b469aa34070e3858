package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-metadata-deprecated",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "A pubsub Component uses a deprecated metadata key that Dapr still reads.",
		Doc: "Some keys were renamed but are still honoured for compatibility: rabbitmq's `host` " +
			"(now `connectionString`), kafka's `authRequired` (now `authType`), Service Bus's " +
			"`publishInitialRetryInternalInMs` (now `publishInitialRetryIntervalInMs`). They are " +
			"found in the component's Go source (components-contrib, the version daprd v1.14.0 is " +
			"built with): the code logs a deprecation notice and copies the value to the new key, " +
			"or declares the old name an alias, and in metadata.yaml's `deprecated` flags. Such a " +
			"key works today, but daprd logs a warning at every start and a later Dapr release may " +
			"drop it. When both keys are set, which one wins depends on the component (rabbitmq and " +
			"kafka use the new one, Service Bus the old one), so keep only the new key.",
		Remediation: "Rename the key to the replacement the finding names (check the value's format: " +
			"kafka's `authRequired: true` becomes `authType: password` or `mtls`).",
		Check: checkComponentMetadataDeprecated,
	})
}

func checkComponentMetadataDeprecated(s *model.Setup, r *Reporter) {
	for c, f := range s.KnownComponents() {
		for _, it := range c.Items {
			key, ok := f.Deprecated[strings.ToLower(it.Name)]
			if !ok {
				continue
			}
			repl := f.Info.ReplacedBy[key]
			if repl == "" {
				r.Report(c.Obj, c.ItemPath(it.Index, "name"), "%s metadata key %q is deprecated; Dapr still reads it, but a later release may not",
					c.Type, it.Name)
				continue
			}
			also := ""
			if other, ok := c.Item(repl); ok {
				also = " (" + other.Name + " is set too: keep only one)"
			}
			r.Report(c.Obj, c.ItemPath(it.Index, "name"), "%s metadata key %q is deprecated: use %q instead%s",
				c.Type, it.Name, repl, also)
		}
	}
}
