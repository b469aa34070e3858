package rules

import "strings"

func init() {
	register(&Rule{
		ID:       "component-metadata-unknown",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "A pubsub Component has a metadata key its type does not know.",
		Doc: "Dapr ignores unknown metadata keys, so a misspelt key (`redisHosts`) silently falls " +
			"back to the default. Keys are compared case-insensitively, as Dapr reads them; the " +
			"runtime keys every pubsub accepts (`consumerID`, `allowedTopics`, ...) are known.",
		Remediation: "Use the key the finding suggests, or remove it.",
		Check:       checkComponentMetadataUnknown,
	})
}

func checkComponentMetadataUnknown(s *Setup, r *Reporter) {
	for _, c := range s.Components {
		f := factsFor(c.Type)
		if f == nil || !f.Closed {
			continue
		}
		for _, it := range c.Items {
			if it.Name == "" {
				continue
			}
			if _, ok := f.Props[strings.ToLower(it.Name)]; ok {
				continue
			}
			r.Report(c.Obj, c.ItemPath(it.Index, "name"), "unknown %s metadata key %q%s", c.Type, it.Name, didYouMean(it.Name, f.Keys()))
		}
	}
}
