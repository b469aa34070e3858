package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-secret-unchecked",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "Live mode could not read a Secret a Component's secretKeyRef names, so whether it exists and has the key was not checked.",
		Doc: "With `--live` pubsub-lint reads each Secret that a Component's `secretKeyRef` names (through " +
			"Dapr's built-in `kubernetes` secret store) with `get` by name, keeps its key names only, and " +
			"reports a Secret or key that is missing (`component-secret-not-found`). Reading a Secret needs " +
			"RBAC that the chart's read-only lint role does not grant (`lint.rbac`: `list` on namespaces, " +
			"deployments, Connections and Components, and on configmaps and pods in the audits' " +
			"namespaces), since whoever may get a Secret may read its values. When the API server refuses " +
			"(or the read fails otherwise) this warning says so, naming the Secret and the reason, instead " +
			"of a finding about the Secret itself.\n\n" +
			"Only reported in live mode.",
		Remediation: "Grant the linting account `get` on exactly those Secrets: a Role in the Component's " +
			"namespace with `{apiGroups: [\"\"], resources: [secrets], verbs: [get], resourceNames: [redis]}` " +
			"and a RoleBinding (never a ClusterRole), or check them by hand (`kubectl get secret redis -n " +
			"NAMESPACE -o jsonpath='{.data}'`) and disable this rule.",
		Check: checkComponentSecretUnchecked,
	})
}

func checkComponentSecretUnchecked(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		if c.SecretStoreName() != model.BuiltinSecretStore {
			continue
		}
		reported := map[string]bool{}
		for _, it := range c.Items {
			if !it.Secret || it.SecretName == "" || reported[it.SecretName] || s.Secret(c.Namespace, it.SecretName) != nil {
				continue
			}
			why, ok := strings.CutPrefix(c.LiveSecrets[it.SecretName], model.SecretUnreadable)
			if !ok {
				continue
			}
			reported[it.SecretName] = true
			key := it.SecretKey
			if key == "" {
				key = it.SecretName
			}
			r.Report(c.Obj, c.ItemPath(it.Index, "secretKeyRef", "name"), "Component %q: metadata %q reads key %q of Secret %s/%s, which pubsub-lint could not read in the cluster, so whether it exists and has the key was not checked: %s",
				c.Name, it.Name, key, c.Namespace, it.SecretName, Prose(why))
		}
	}
}
