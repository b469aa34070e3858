package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-secret-plaintext",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A sensitive metadata key (for example redisPassword) is given as a plain value.",
		Doc: "Keys that Dapr's metadata marks sensitive (passwords, keys, tokens, connection " +
			"strings) end up in plain text in the Component, in Git and in every `kubectl get`. " +
			"The quick start in Gatekeeper's pubsub documentation reads `redisPassword` from the `redis` Secret.",
		Remediation: "Replace `value:` by `secretKeyRef: {name: <secret>, key: <key>}` and create the " +
			"Secret in the Component's namespace.",
		Check: checkComponentSecretPlaintext,
	})
}

func checkComponentSecretPlaintext(s *model.Setup, r *Reporter) {
	for c, f := range s.KnownComponents() {
		for _, it := range c.Items {
			if !it.HasValue || it.Value == "" {
				continue
			}
			for _, k := range f.Info.Sensitive {
				if strings.EqualFold(k, it.Name) {
					r.Report(c.Obj, c.ItemPath(it.Index, "value"), "sensitive %s metadata %q is a plain value; read it from a secret with secretKeyRef", c.Type, it.Name)
					break
				}
			}
		}
	}
}
