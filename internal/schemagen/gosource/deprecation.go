package gosource

import (
	"strings"
)

// resolveDeprecations turns the if statements that log a deprecation
// notice into deprecated keys: the key the condition reads and the body
// does not write is deprecated; the key the body writes (or the one other
// known key the notice names) replaces it.
func (a *keyAnalysis) resolveDeprecations() {
	for _, d := range a.deps {
		var dep []string
		for _, k := range d.cond {
			if !containsFold(d.assigned, k, true) && !containsFold(dep, k, true) {
				dep = append(dep, k)
			}
		}
		if len(dep) > 1 {
			var named []string
			for _, k := range dep {
				if mentions(d.msg, k) {
					named = append(named, k)
				}
			}
			dep = named
		}
		if len(dep) != 1 {
			continue
		}
		repl := ""
		var assigned []string
		for _, k := range d.assigned {
			if !containsFold(assigned, k, true) {
				assigned = append(assigned, k)
			}
		}
		if len(assigned) == 1 {
			repl = assigned[0]
		} else {
			var named []string
			for lk, k := range a.keys {
				if lk != strings.ToLower(dep[0]) && mentions(d.msg, k.name) {
					named = append(named, k.name)
				}
			}
			if len(named) == 1 {
				repl = named[0]
			}
		}
		k := a.addKey(dep[0], "", d.from)
		k.deprecated = true
		if repl != "" {
			if rk, ok := a.keys[strings.ToLower(repl)]; ok {
				repl = rk.name
			}
			k.replacedBy = repl
		}
	}
}

// mentions says whether msg names key as a word, in any letter case.
func mentions(msg, key string) bool {
	words := strings.FieldsFunc(msg, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	for _, w := range words {
		if strings.EqualFold(w, key) {
			return true
		}
	}
	return false
}
