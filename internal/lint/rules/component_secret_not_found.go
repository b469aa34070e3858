package rules

import (
	"slices"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-secret-not-found",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A Component's secretKeyRef names a Secret, or a key of one, that the inputs do not have.",
		Doc: "With the built-in `kubernetes` secret store (no `auth.secretStore`) Dapr's operator reads " +
			"each `secretKeyRef` from the Secret of that name in the Component's namespace. A missing " +
			"Secret keeps the Component from every daprd of the namespace; a missing key leaves the " +
			"metadata value empty (no password, so the broker refuses the connection).\n\n" +
			"Checked when the Secret is among the inputs (a missing key), or when a Secret of a near name " +
			"is and this one is not (a misspelt Secret). pubsub-lint lists in a note every Secret and key " +
			"the setup needs that is not among the inputs. With `--live` each Secret a Component names is " +
			"read from the cluster by name (`get`, its key names only): a Secret that does not exist, or " +
			"lacks the key, is reported; one pubsub-lint may not read is `component-secret-unchecked`'s.",
		Remediation: "Create the Secret with the key in the Component's namespace (`kubectl create secret generic " +
			"redis -n NAMESPACE --from-literal=redis-password=...`), or correct the secretKeyRef's `name` or `key`.",
		Check: checkComponentSecretNotFound,
	})
}

func checkComponentSecretNotFound(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		if c.SecretStoreName() != model.BuiltinSecretStore {
			continue
		}
		others := s.SecretsIn(c.Namespace)
		for _, it := range c.Items {
			if !it.Secret || it.SecretName == "" {
				continue
			}
			key := it.SecretKey
			if key == "" {
				key = it.SecretName
			}
			sec := s.Secret(c.Namespace, it.SecretName)
			switch {
			case sec != nil && !slices.Contains(sec.Keys, key):
				r.Report(c.Obj, c.ItemPath(it.Index, "secretKeyRef", "key"), "Component %q: metadata %q reads key %q of Secret %s/%s, which has no such key%s: the value is empty",
					c.Name, it.Name, key, c.Namespace, it.SecretName, didYouMean(key, sec.Keys))
			case sec == nil && c.LiveSecrets[it.SecretName] == model.SecretMissing:
				r.Report(c.Obj, c.ItemPath(it.Index, "secretKeyRef", "name"), "Component %q: metadata %q reads key %q of Secret %s/%s, which does not exist in the cluster: Dapr's operator cannot resolve it, so no daprd of namespace %s gets the Component%s",
					c.Name, it.Name, key, c.Namespace, it.SecretName, c.Namespace, didYouMean(it.SecretName, others))
			case sec == nil && len(nearest(it.SecretName, others)) > 0:
				r.Report(c.Obj, c.ItemPath(it.Index, "secretKeyRef", "name"), "Component %q: metadata %q reads Secret %s/%s, which is not among the inputs (namespace %s has %s)%s",
					c.Name, it.Name, c.Namespace, it.SecretName, c.Namespace, Prose(quoteList(others)), didYouMean(it.SecretName, others))
			}
		}
	}
}

func quoteList(names []string) string {
	slices.Sort(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
