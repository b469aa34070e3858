package rules

import (
	"strings"
	"testing"
)

func TestSuggestKey(t *testing.T) {
	rabbit := []string{"connectionString", "concurrency", "concurrencyMode", "host", "hostname", "reconnectWaitSeconds", "exchangeKind"}
	deprecated := []string{"host"}
	tests := []struct {
		key, want string
	}{
		{"conectionString", ` (did you mean "connectionString"?)`},
		{"hostnme", ` (did you mean "hostname"?)`},
		{"exchangekind", ""},    // known in another case: Dapr reads it
		{"concurrencyMode", ""}, // known: never "corrected" into concurrency
		{"HOST", ""},            // deprecated but known
		{"hots", ""},            // the only near key is deprecated
		{"reconnectWait", ""},   // a prefix is not a typo of reconnectWaitSeconds
		{"concurrencyModes", ` (did you mean "concurrencyMode"?)`},
		{"exchange", ""}, // too far from exchangeKind
	}
	for _, tc := range tests {
		if got := suggestKey(tc.key, rabbit, deprecated); got != tc.want {
			t.Errorf("suggestKey(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// TestDaprRulesGated: the rules about Dapr's side of publishing are
// DaprOnly, and their documentation says so.
func TestDaprRulesGated(t *testing.T) {
	for _, id := range []string{"audit-dapr-disabled", "subscriber-broker-mismatch", "subscriber-channel-mismatch"} {
		r := Get(id)
		if r == nil {
			t.Errorf("rule %s is not registered", id)
			continue
		}
		if !r.DaprOnly || !strings.HasSuffix(r.Doc, daprOnlyNote) {
			t.Errorf("rule %s is not limited to dapr connections", id)
		}
	}
}
