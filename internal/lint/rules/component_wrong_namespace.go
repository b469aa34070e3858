package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "component-wrong-namespace",
		Severity: Error,
		Category: CatComponent,
		Summary:  "The audit's Dapr Component is with its connection config in another namespace than the audit's (for example all in default).",
		Doc: "The audit's daprd loads the Components of the audit pod's namespace only (Gatekeeper's, " +
			"`gatekeeper-system` by default), and the audit reads its connection config from that namespace " +
			"too. A setup written without `metadata.namespace` and applied with `kubectl apply -f` (or " +
			"rendered with Helm without `-n`) lands in `default`: the connection config is then " +
			"`connection-wrong-namespace`'s, and the Component it names, in the same wrong namespace, is " +
			"this rule's. The finding says which namespace the Component (and the Secrets it reads through " +
			"the built-in `kubernetes` secret store) must be in. The subscriber and its own Component may " +
			"stay in any namespace.",
		Remediation: "Set `metadata.namespace` of the Component (and of the connection config and the Secrets " +
			"it reads) to the audit's namespace, or apply them with `-n gatekeeper-system`.",
		Check: checkComponentWrongNamespace,
	})
}

func checkComponentWrongNamespace(s *model.Setup, r *Reporter) {
	seen := map[*model.Component]bool{}
	for _, a := range s.Audits {
		if !a.Publishes || s.ConnectionOf(a) != nil {
			continue
		}
		for _, c := range s.Connections {
			if c.Name != a.Connection || c.Namespace == a.Namespace {
				continue
			}
			ref, ok := model.PubsubThrough(a, c)
			if !ok || s.Component(a.Namespace, ref.Name) != nil {
				continue
			}
			comp := s.Component(c.Namespace, ref.Name)
			if comp == nil || seen[comp] {
				continue
			}
			seen[comp] = true
			field := model.P("metadata", "namespace")
			where := fmt.Sprintf("is in namespace %q", comp.Namespace)
			if comp.Obj.Namespace() == "" {
				field = model.P("metadata")
				where = fmt.Sprintf("has no namespace, so it goes to %q", comp.Namespace)
			}
			also := ""
			if secrets := builtinSecrets(comp); len(secrets) > 0 {
				also = fmt.Sprintf(" (and Secret %s it reads)", strings.Join(secrets, ", "))
			}
			r.Report(comp.Obj, field, "Component %q %s, like connection config %q that names it, but %s runs in namespace %q and its daprd loads only that namespace's Components: put the Component%s in namespace %q (metadata.namespace: %s, or apply with -n %s)",
				comp.Name, Prose(where), c.Name, Prose(a.Describe()), a.Namespace, Prose(also), a.Namespace, a.Namespace, a.Namespace)
		}
	}
}

// builtinSecrets lists, sorted and once each, the Secrets a Component
// reads through the built-in kubernetes secret store.
func builtinSecrets(c *model.Component) []string {
	if c.SecretStoreName() != model.BuiltinSecretStore {
		return nil
	}
	var out []string
	for _, it := range c.Items {
		if it.Secret && it.SecretName != "" && !slices.Contains(out, it.SecretName) {
			out = append(out, it.SecretName)
		}
	}
	slices.Sort(out)
	return out
}
