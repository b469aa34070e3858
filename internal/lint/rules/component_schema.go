package rules

import (
	"strconv"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "component-schema",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A Dapr Component is malformed: missing spec.type or spec.version, a metadata item without a name or with more than one value source.",
		Doc: "Components are checked against `schemas/component.schema.json` (Dapr v1.14's " +
			"Component CRD). Each `spec.metadata` item needs a `name` and exactly one of `value`, " +
			"`secretKeyRef` and `envRef`; daprd refuses to load a component otherwise, or silently " +
			"uses one of the two values.",
		Remediation: "Add the missing fields; keep exactly one of `value`, `secretKeyRef`, `envRef` per item.",
		CheckObject: checkComponentSchema,
	})
}

func checkComponentSchema(e model.Entry, r *Reporter) {
	if c := e.Component; c != nil {
		items, _ := lookupList(c.Obj.Obj, "spec", "metadata")
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if n, _ := m["name"].(string); n == "" {
				r.Report(c.Obj, c.ItemPath(int32(i)), "Component %q: metadata item %d has no name", c.Name, i)
			}
			var srcs []string
			for _, k := range []string{"value", "secretKeyRef", "envRef"} {
				if _, ok := m[k]; ok {
					srcs = append(srcs, k)
				}
			}
			switch len(srcs) {
			case 0:
				r.Report(c.Obj, c.ItemPath(int32(i)), "Component %q: metadata item %s has none of value, secretKeyRef and envRef", c.Name, itemName(m, i))
			case 1:
			default:
				r.Report(c.Obj, c.ItemPath(int32(i), srcs[1]), "Component %q: metadata item %s has both %s: give exactly one", c.Name, itemName(m, i), strings.Join(srcs, " and "))
			}
		}
		problems, err := schemas.Validate(schemas.Component, c.Obj.Obj)
		if err != nil {
			r.Report(c.Obj, nil, "Component %q: %v", c.Name, err)
			return
		}
		seen := map[string]bool{}
		for _, p := range problems {
			if isItemPointer(p.Pointer) || seen[p.Pointer+p.Message] {
				continue // reported above, with a clearer message
			}
			seen[p.Pointer+p.Message] = true
			path := pointerPath(c.Obj.Obj, p.Pointer)
			where := path.String()
			if where == "" {
				where = "the object"
			}
			r.Report(c.Obj, path, "Component %q: at %s: %s", c.Name, where, p.Message)
		}
	}
}

func itemName(m map[string]any, i int) string {
	if n, _ := m["name"].(string); n != "" {
		return strconv.Quote(n)
	}
	return strconv.Itoa(i)
}

// isItemPointer matches /spec/metadata/N (the item itself).
func isItemPointer(p string) bool {
	rest, ok := strings.CutPrefix(p, "/spec/metadata/")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

func lookupList(obj map[string]any, path ...string) ([]any, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur = m[p]
	}
	l, ok := cur.([]any)
	return l, ok
}

// pointerPath turns a JSON pointer into a Path, using the object to tell
// list indexes from keys.
func pointerPath(obj any, ptr string) model.Path {
	var out model.Path
	if ptr == "" {
		return out
	}
	cur := obj
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return out
			}
			out = append(out, i)
			cur = v[i]
		case map[string]any:
			out = append(out, tok)
			cur = v[tok]
		default:
			return out
		}
	}
	return out
}
