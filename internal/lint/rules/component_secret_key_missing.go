package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "component-secret-key-missing",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "A Component's secretKeyRef has no key, so Dapr reads the key named like the Secret.",
		Doc: "A `secretKeyRef` names a Secret (`name`) and the key in it (`key`). Without `key` Dapr " +
			"does not fail: it reads the key whose name is the Secret's name (`secretKeyRef: {name: redis}` " +
			"reads key `redis` of Secret `redis`). A Secret rarely has such a key, and then the metadata " +
			"value is empty: the component connects without the password and the broker refuses it. A " +
			"`secretKeyRef` without `name` is skipped altogether.",
		Remediation: "Add the Secret's key, for example `secretKeyRef: {name: redis, key: redis-password}`.",
		Check:       checkComponentSecretKeyMissing,
	})
}

func checkComponentSecretKeyMissing(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		for _, it := range c.Items {
			if !it.Secret || (it.HasSecretKey && it.SecretKey != "") {
				continue
			}
			if it.SecretName == "" {
				r.Report(c.Obj, c.ItemPath(it.Index, "secretKeyRef"), "Component %q: metadata %q has a secretKeyRef without name or key, which Dapr skips: %s gets no value",
					c.Name, it.Name, it.Name)
				continue
			}
			r.Report(c.Obj, c.ItemPath(it.Index, "secretKeyRef"), "Component %q: metadata %q has secretKeyRef {name: %s} without key, so Dapr reads key %q of Secret %q (the Secret's name); add the key, for example key: %s",
				c.Name, it.Name, it.SecretName, it.SecretName, it.SecretName, Prose(suggestSecretKey(s, c, it)))
		}
	}
}

// suggestSecretKey proposes a key for the secretKeyRef of it: a key of the
// Secret when it is among the inputs and has one key, else the quick start's
// convention <name>-password for a password.
func suggestSecretKey(s *model.Setup, c *model.Component, it model.MetaItem) string {
	if sec := s.Secret(c.Namespace, it.SecretName); sec != nil && len(sec.Keys) == 1 {
		return sec.Keys[0]
	}
	return it.SecretName + "-password"
}
