package render

import (
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
)

// UnknownValue is a key the user set that the chart's values.yaml does not
// have, with the closest key it does have.
type UnknownValue struct {
	// Chart is the chart's directory as given to pubsub-lint; UnknownValues
	// leaves it empty for the caller to set.
	Chart string
	// Key is the dotted path, as --set writes it.
	Key string
	// Suggestion is a known key at the same level that is one or two edits
	// away (or differs only in case), or "".
	Suggestion string
}

// UnknownValues lists the keys of user (the values from -f and --set
// alone, before the chart's defaults) that the chart's values.yaml does not
// define. A chart with a values.schema.json is left to its schema, which
// Helm applies. Keys below a map that is empty in values.yaml, whose keys
// look like labels or annotations (they hold "." or "/"), or that a
// template renders whole with toYaml (Gatekeeper's audit.exportSidecar, a
// container) are free-form and never unknown; so are "global" and the keys
// of subcharts.
func UnknownValues(c *chart.Chart, user map[string]any) []UnknownValue {
	if c == nil || c.Schema != nil {
		return nil
	}
	skip := map[string]bool{"global": true}
	for _, d := range c.Dependencies() {
		skip[d.Name()] = true
	}
	for _, d := range c.Metadata.Dependencies {
		skip[d.Name] = true
		if d.Alias != "" {
			skip[d.Alias] = true
		}
	}
	refs, whole := valuesRefs(c)
	var out []UnknownValue
	var walk func(prefix string, user, defaults map[string]any)
	walk = func(prefix string, user, defaults map[string]any) {
		keys := make([]string, 0, len(user))
		for k := range user {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if prefix == "" && skip[k] {
				continue
			}
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			def, ok := defaults[k]
			if !ok {
				// Read by a template without a default (hasKey, default).
				if refs[path] {
					continue
				}
				out = append(out, UnknownValue{Key: path, Suggestion: suggestKey(k, defaults)})
				continue
			}
			um, uok := user[k].(map[string]any)
			dm, dok := def.(map[string]any)
			if uok && dok && !freeForm(dm) && !whole[path] {
				walk(path, um, dm)
			}
		}
	}
	walk("", user, c.Values)
	return out
}

var (
	valuesRefRE = regexp.MustCompile(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)
	hasKeyRE    = regexp.MustCompile(`hasKey\s+\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s+"([^"]+)"`)
	toYamlRE    = regexp.MustCompile(`toYaml\s+\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)|\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\|\s*toYaml\b`)
)

// valuesRefs returns the values paths the chart's own templates read
// (.Values.a.b, hasKey .Values.a "b"), so that a key a template reads
// without a default in values.yaml is not unknown; and those a template
// renders whole with toYaml (a container, a securityContext), whose keys
// are the user's to choose.
func valuesRefs(c *chart.Chart) (refs, whole map[string]bool) {
	refs, whole = map[string]bool{}, map[string]bool{}
	for _, t := range c.Templates {
		text := string(t.Data)
		for _, m := range valuesRefRE.FindAllStringSubmatch(text, -1) {
			refs[strings.TrimPrefix(m[1], ".")] = true
		}
		for _, m := range hasKeyRE.FindAllStringSubmatch(text, -1) {
			refs[strings.TrimPrefix(m[1]+"."+m[2], ".")] = true
		}
		for _, m := range toYamlRE.FindAllStringSubmatch(text, -1) {
			whole[strings.TrimPrefix(m[1]+m[2], ".")] = true
		}
	}
	return refs, whole
}

// freeForm says whether a map in values.yaml takes keys of the user's
// choosing: it is empty, or its keys look like labels or annotations.
func freeForm(m map[string]any) bool {
	if len(m) == 0 {
		return true
	}
	for k := range m {
		if strings.ContainsAny(k, "./") {
			return true
		}
	}
	return false
}

// suggestKey returns the known key closest to k (case-insensitively equal,
// or at most two edits away for keys of five or more letters, one edit for
// shorter), or "".
func suggestKey(k string, known map[string]any) string {
	best, bestD := "", 3
	for c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		limit := 2
		if len(k) < 5 {
			limit = 1
		}
		if d := editdist.Levenshtein(strings.ToLower(k), strings.ToLower(c)); d <= limit && (d < bestD || d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	return best
}
