package rules

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
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
		if got := suggestKey(tc.key, rabbit, deprecated); got != Prose(tc.want) {
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

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	for _, tc := range []struct {
		in      string
		wantCut bool
	}{{"short", false}, {strings.Repeat("x", MaxValueInMessage), false}, {long, true}} {
		got := Clip(tc.in)
		if !tc.wantCut {
			if got != tc.in {
				t.Errorf("Clip(%d bytes) changed a short value", len(tc.in))
			}
			continue
		}
		if len(got) > MaxValueInMessage+40 || !strings.Contains(got, "(600 bytes in all)") || !utf8.ValidString(got) {
			t.Errorf("Clip = %q", got)
		}
	}
}

// TestReportCutsValuesNotProse: a long value in a message is cut, a long
// text the rule composed (Prose) is not.
func TestReportCutsValuesNotProse(t *testing.T) {
	long := strings.Repeat("v", 3*MaxValueInMessage)
	r := NewReporter(&Rule{ID: "x"})
	r.Report(nil, nil, "value %q%s", long, Prose("; "+strings.Repeat("p", 2*MaxValueInMessage)+" end"))
	msg := r.Findings()[0].Message
	if !strings.Contains(msg, fmt.Sprintf("... (%d bytes in all)", len(long))) || strings.Contains(msg, long) {
		t.Errorf("the value is not cut: %.80s...", msg)
	}
	if !strings.HasSuffix(msg, strings.Repeat("p", 2*MaxValueInMessage)+" end") {
		t.Errorf("the prose is cut: ...%s", msg[len(msg)-80:])
	}
}
