package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-secret-store-unknown",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A Component's auth.secretStore names no secret store Component among the inputs.",
		Doc: "`auth.secretStore` (beside `spec`, not in it) names the secret store Dapr resolves the " +
			"Component's `secretKeyRef`s with: a Component of type `secretstores.*` of that name in " +
			"the same namespace, or the built-in `kubernetes` store. With a name no secret store has, " +
			"daprd waits for that store (\"references a secret store that isn't loaded\") and the " +
			"Component is never initialised: every publish or subscription through it fails.\n\n" +
			"Checked against the Components among the inputs (in live mode, the cluster's).",
		Remediation: "Name the secret store Component (`kubectl get components -n NAMESPACE`), or use " +
			"`kubernetes` (or no `auth`) for Kubernetes Secrets of the Component's namespace; add the secret " +
			"store's manifest to the inputs if it lives elsewhere.",
		Check: checkComponentSecretStoreUnknown,
	})
}

func checkComponentSecretStoreUnknown(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		if c.SecretStore == "" || c.SecretStore == model.BuiltinSecretStore {
			continue
		}
		var stores []string
		found := false
		for _, o := range s.Components {
			if o.Namespace != c.Namespace {
				continue
			}
			isStore := strings.HasPrefix(o.Type, "secretstores.")
			if o.Name == c.SecretStore {
				if isStore {
					found = true
					break
				}
				r.Report(c.Obj, model.P("auth", "secretStore"), "Component %q: auth.secretStore %q names Component %s of type %q, not a secret store (secretstores.*)",
					c.Name, c.SecretStore, o.Obj.String(), o.Type)
				found = true
				break
			}
			if isStore {
				stores = append(stores, o.Name)
			}
		}
		if found {
			continue
		}
		r.Report(c.Obj, model.P("auth", "secretStore"), "Component %q: auth.secretStore %q names no secret store in namespace %s among the inputs%s, so daprd never initialises the Component",
			c.Name, c.SecretStore, c.Namespace, didYouMean(c.SecretStore, append(stores, model.BuiltinSecretStore)))
	}
}
