package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

// nearestRuleID returns the rule ID of the registry closest to id (letter
// case ignored): within max(3, len(id)/3) edits, or one that contains id or
// is contained in it; "" when none is that close.
func nearestRuleID(id string) string {
	lid := strings.ToLower(strings.TrimSpace(id))
	if lid == "" {
		return ""
	}
	limit := max(3, len(lid)/3)
	best, bestD := "", limit+1
	for _, r := range rules.All() {
		d := editdist.Levenshtein(lid, r.ID)
		if len(lid) >= 5 && (strings.Contains(r.ID, lid) || strings.Contains(lid, r.ID)) {
			d = min(d, limit)
		}
		if d < bestD || d == bestD && r.ID < best {
			best, bestD = r.ID, d
		}
	}
	return best
}

// unknownRule is the message of a rule ID that is not a rule: with the
// closest one, if any.
func unknownRule(id string) string {
	msg := fmt.Sprintf("unknown rule %q", id)
	if n := nearestRuleID(id); n != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", n)
	}
	return msg + "; pubsub-lint rules lists them"
}

// ignoreIDs returns the rule IDs an object's ignore annotations name, each
// with the annotation that names it.
func ignoreIDs(ann map[string]string) (ids, keys []string) {
	var annKeys []string
	for k := range ann {
		annKeys = append(annKeys, k)
	}
	sort.Strings(annKeys)
	for _, k := range annKeys {
		switch {
		case k == IgnoreAnnotation:
			for _, id := range strings.Split(ann[k], ",") {
				if id = strings.TrimSpace(id); id != "" {
					ids, keys = append(ids, id), append(keys, k)
				}
			}
		case strings.HasPrefix(k, IgnoreRulePrefix):
			ids, keys = append(ids, strings.TrimPrefix(k, IgnoreRulePrefix)), append(keys, k)
		}
	}
	return ids, keys
}

// unknownIgnores reports, as findings of IgnoreUnknownRule, the rule IDs
// that the ignore annotations of the setup's objects name but that are no
// rule of the registry: such an annotation suppresses nothing.
func unknownIgnores(objs []*model.Object) []Finding {
	var out []Finding
	for _, o := range objs {
		ids, keys := ignoreIDs(o.Annotations())
		for i, id := range ids {
			if rules.Get(id) != nil {
				continue
			}
			what := "names no rule"
			if engineRule(id) {
				what = "names a rule that cannot be ignored"
			} else if n := nearestRuleID(id); n != "" {
				what += fmt.Sprintf(" (did you mean %q?)", n)
			}
			msg := fmt.Sprintf("annotation %s: %q %s, so it suppresses nothing; pubsub-lint rules lists the rule IDs", keys[i], id, what)
			out = append(out, Finding{Rule: IgnoreUnknownRule, Severity: rules.Warning, Message: msg,
				Subject: o, Path: model.P("metadata", "annotations", keys[i]), Field: model.P("metadata", "annotations", keys[i]).String()})
		}
	}
	return out
}
