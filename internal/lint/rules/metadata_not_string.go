package rules

import (
	"fmt"
	"sort"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "metadata-not-string",
		Severity: Error,
		Category: CatAudit,
		Summary:  "An annotation or label value is not a string (for example an unquoted dapr.io/enabled: true).",
		Doc: "Annotation and label values are strings. YAML reads `dapr.io/enabled: true` as a boolean and " +
			"`dapr.io/app-port: 6002` as a number, and the API server rejects such an object (kubectl: " +
			"`cannot unmarshal bool into Go struct field ObjectMeta.metadata.annotations of type string`). " +
			"Checked on the objects of the setup and on their pod templates.",
		Remediation: "Quote the value: `dapr.io/enabled: \"true\"`.",
		CheckObject: checkMetadataNotString,
	})
}

func checkMetadataNotString(e model.Entry, r *Reporter) {
	check := func(o *model.Object, meta map[string]any, at func(...any) model.Path) {
		for _, field := range []string{"annotations", "labels"} {
			m, _ := meta[field].(map[string]any)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v := m[k]
				if _, ok := v.(string); ok || v == nil {
					continue
				}
				r.Report(o, at("metadata", field, k), "%s %s is the %s %v, not a string: the API server rejects the object; quote it: %q",
					field[:len(field)-1], k, kindOf(v), v, fmt.Sprint(v))
			}
		}
	}
	// Only the objects that are part of the setup (Relevant), as every rule.
	meta, _ := e.Obj.Obj["metadata"].(map[string]any)
	check(e.Obj, meta, func(p ...any) model.Path { return model.Path(nil).Add(p...) })
	if w := e.Workload; w != nil && len(w.Template) > 0 { // a Pod's metadata is the object's
		check(w.Obj, w.Meta, w.TemplatePath)
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case int, int64, float64:
		return "number"
	case map[string]any:
		return "map"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}
