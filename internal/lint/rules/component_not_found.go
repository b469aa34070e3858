package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "component-not-found",
		Severity: Error,
		Category: CatComponent,
		Summary:  "config.component names no Dapr Component in the audit's namespace.",
		Doc: "The dapr driver publishes through the daprd sidecar of the audit pod, which loads " +
			"the Components of the pod's namespace. The Component named by `config.component` must " +
			"be there; one in the subscriber's namespace does not count. Connections of another " +
			"driver (Gatekeeper v3.20+'s `disk`) use no Component and are not checked, unless the " +
			"audit pod runs pubsub-forward, which sends the files through the pod's daprd: its " +
			"`--pubsub` (default `pubsub`) must then name the Component.",
		Remediation: "Create the Dapr pubsub Component in the audit's namespace (with the broker's " +
			"secret there too), or fix the name in `config.component` (pubsub-forward's `--pubsub`).",
		Check: checkComponentNotFound,
	})
}

func checkComponentNotFound(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes || !s.UsesDapr(a) {
			continue
		}
		ref, ok := s.PubsubOf(a)
		name := ref.Name
		if !ok || s.Component(a.Namespace, name) != nil {
			continue
		}
		var names []string
		other := ""
		for _, c := range s.Components {
			if c.Namespace == a.Namespace {
				names = append(names, c.Name)
			} else if c.Name == name && other == "" {
				other = c.Namespace
			}
		}
		hint := didYouMean(name, names)
		if other != "" {
			hint += Prose(" (there is one in namespace \"" + other + "\", but daprd only loads its own namespace's)")
		}
		r.Report(ref.Obj, ref.Field,
			"%s names Dapr Component %q, but there is none in the audit's namespace %q%s", Prose(ref.By), name, a.Namespace, hint)
	}
}
