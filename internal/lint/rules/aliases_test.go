package rules

import "testing"

// TestDeprecatedIDs: every deprecated alias stands for a rule, is no
// rule's ID itself, and Lookup resolves it.
func TestDeprecatedIDs(t *testing.T) {
	for alias, id := range Aliases() {
		if Get(alias) != nil {
			t.Errorf("deprecated alias %s is a rule's ID", alias)
		}
		r, isAlias := Lookup(alias)
		if r == nil || r.ID != id || !isAlias {
			t.Errorf("Lookup(%q) = %v, %v; want rule %s by alias", alias, r, isAlias, id)
		}
		if got := AliasesOf(id); len(got) == 0 {
			t.Errorf("AliasesOf(%q) is empty, want the alias %s", id, alias)
		}
	}
	if r, isAlias := Lookup("connection-driver-unknown"); r == nil || isAlias {
		t.Errorf("Lookup of a rule's ID = %v, %v", r, isAlias)
	}
	if r, _ := Lookup("no-such-rule"); r != nil {
		t.Errorf("Lookup(no-such-rule) = %v", r)
	}
}
