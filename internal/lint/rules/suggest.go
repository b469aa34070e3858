package rules

import (
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
)

// nearest returns the candidates closest to s (case-insensitively) within
// an edit distance of max(2, len(s)/3), best first, at most three.
func nearest(s string, candidates []string) []string {
	type scored struct {
		c string
		d int
	}
	limit := max(2, len(s)/3)
	ls := strings.ToLower(s)
	var out []scored
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || c == s {
			continue
		}
		seen[c] = true
		lc := strings.ToLower(c)
		d := editdist.Levenshtein(ls, lc)
		if strings.Contains(lc, ls) || strings.Contains(ls, lc) {
			d = min(d, limit)
		}
		if d <= limit {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].c < out[j].c
	})
	names := make([]string, 0, 3)
	for i := 0; i < len(out) && i < 3; i++ {
		names = append(names, out[i].c)
	}
	return names
}

// didYouMean renders suggestions as ` (did you mean "a" or "b"?)`.
func didYouMean(s string, candidates []string) Prose {
	n := nearest(s, candidates)
	if len(n) == 0 {
		return ""
	}
	q := make([]string, len(n))
	for i, c := range n {
		q[i] = `"` + c + `"`
	}
	return Prose(" (did you mean " + strings.Join(q, " or ") + "?)")
}

// suggestKey proposes, for a metadata key the component does not know, the
// known keys it is most likely a misspelling of, as " (did you mean ...?)".
// Unlike didYouMean it never proposes a key of another meaning: only keys
// within a small edit distance (1 for keys up to 5 characters, 2 up to 11,
// 3 beyond; letter case ignored, as Dapr ignores it), never a deprecated
// key, and nothing for a key that is itself known or deprecated (a known
// key must not be "corrected" into another: concurrencyMode is not
// concurrency, host is not hostname).
func suggestKey(key string, known, deprecated []string) Prose {
	lk := strings.ToLower(key)
	for _, k := range append(append([]string(nil), known...), deprecated...) {
		if strings.ToLower(k) == lk {
			return ""
		}
	}
	limit := 1
	switch {
	case len(key) > 11:
		limit = 3
	case len(key) > 5:
		limit = 2
	}
	type scored struct {
		c string
		d int
	}
	var out []scored
	for _, c := range known {
		skip := false
		for _, d := range deprecated {
			skip = skip || strings.EqualFold(c, d)
		}
		if skip {
			continue
		}
		if d := editdist.Levenshtein(lk, strings.ToLower(c)); d <= limit {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].c < out[j].c
	})
	if len(out) == 0 {
		return ""
	}
	q := make([]string, 0, 3)
	for i := 0; i < len(out) && i < 3; i++ {
		q = append(q, `"`+out[i].c+`"`)
	}
	return Prose(" (did you mean " + strings.Join(q, " or ") + "?)")
}

// distance is the Levenshtein distance between a and b (bytes).
