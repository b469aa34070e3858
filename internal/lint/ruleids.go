package lint

import (
	"fmt"
	"sort"
	"strconv"
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
	try := func(cand, id string) {
		d := editdist.Levenshtein(lid, cand)
		if len(lid) >= 5 && (strings.Contains(cand, lid) || strings.Contains(lid, cand)) {
			d = min(d, limit)
		}
		if d < bestD || d == bestD && id < best {
			best, bestD = id, d
		}
	}
	for _, r := range rules.All() {
		try(r.ID, r.ID)
	}
	// A misspelt deprecated alias is answered with its rule's ID.
	for alias, id := range rules.Aliases() {
		try(alias, id)
	}
	return best
}

// ResolveRuleID returns the rule ID that id names: id itself, or the ID of
// the rule that id, a deprecated alias (rules.Lookup), stands for, with
// the deprecation warning to give (deprecatedRule); warning is "" for
// anything else, a rule's ID or no rule.
func ResolveRuleID(id string) (resolved, warning string) {
	if r, alias := rules.Lookup(id); alias {
		return r.ID, deprecatedRule(id, r.ID, strconv.Quote(r.ID))
	}
	return id, ""
}

// deprecatedRule is the warning for alias, a deprecated alias of rule id;
// write is what to write instead.
func deprecatedRule(alias, id, write string) string {
	return fmt.Sprintf("rule ID %q is a deprecated alias of %q and still works; write %s instead", alias, id, write)
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
// rule of the registry: such an annotation suppresses nothing. A
// deprecated alias (rules.Lookup) suppresses its rule's findings, and is
// reported as a warning that names the rule's ID.
func unknownIgnores(objs []*model.Object) []Finding {
	var out []Finding
	for _, o := range objs {
		ids, keys := ignoreIDs(o.Annotations())
		for i, id := range ids {
			if rules.Get(id) != nil {
				continue
			}
			if r, alias := rules.Lookup(id); alias {
				write := strconv.Quote(r.ID)
				if keys[i] != IgnoreAnnotation {
					write = "the annotation " + IgnoreRulePrefix + r.ID
				}
				msg := fmt.Sprintf("annotation %s: %s", keys[i], deprecatedRule(id, r.ID, write))
				out = append(out, Finding{Rule: IgnoreUnknownRule, Severity: rules.Warning, Message: msg,
					Subject: o, Path: model.P("metadata", "annotations", keys[i]), Field: model.P("metadata", "annotations", keys[i]).String()})
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
