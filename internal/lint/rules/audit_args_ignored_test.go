package rules

import (
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestAuditArgsIgnored: what the rule reports, and that the other rules
// read the flags as Gatekeeper does.
func TestAuditArgsIgnored(t *testing.T) {
	tests := []struct {
		name       string
		command    []any
		args       []string
		want       []string // parts of the messages, in order
		connection string
	}{
		{"stray true", nil, []string{"--operation=audit", "--enable-pub-sub", "true", "--audit-connection=x"},
			[]string{`stops parsing the audit's flags at "true" (args[2]), the first argument that is not a flag, and ignores it and the 1 argument after it; --enable-pub-sub is a boolean flag, which takes its value only as --enable-pub-sub=true`,
				`--audit-connection=x is ignored: it comes after "true" (args[2]), where Gatekeeper stops parsing flags, so --audit-connection keeps its default: the audit publishes through connection "audit-connection"`},
			"audit-connection"},
		{"command /manager", []any{"/manager"}, []string{"--operation=audit", "x", "--operation=status"},
			[]string{`at "x" (args[1])`, "--operation=status is ignored: it comes after \"x\" (args[1]), where Gatekeeper stops parsing flags, so --operation has only the values before it: audit"}, "audit-connection"},
		{"earlier value stays", nil, []string{"--operation=audit", "--audit-connection=a", "-", "--audit-connection=b"},
			[]string{`a lone "-", which is not a flag`, "--audit-connection=a (args[1]) stays in effect"}, "a"},
		{"-- at the end", nil, []string{"--operation=audit", "--"}, nil, "audit-connection"},
		{"-- before flags", nil, []string{"--operation=audit", "--", "--audit-connection=x"},
			[]string{`"--" (args[1]) ends the audit's flags: Gatekeeper ignores the 1 argument after it`, "--audit-connection=x is ignored"}, "audit-connection"},
		{"after a bad value the stop is known", nil, []string{"--operation=audit", "--audit-interval=x", "y", "--audit-connection=x"},
			[]string{`at "y" (args[2])`, "--audit-connection=x is ignored"}, "audit-connection"},
		{"after an undefined flag the stop is a guess", nil, []string{"--operation=audit", "--no-such", "y", "--audit-connection=x"}, nil, "audit-connection"},
		{"a shell command is not parsed", []any{"sh", "-c"}, []string{"--operation=audit", "true", "--audit-connection=x"}, nil, "x"},
		{"value as the next argument", nil, []string{"--operation=audit", "--audit-connection", "x"}, nil, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var manager map[string]any
			if tc.command != nil {
				manager = map[string]any{"command": tc.command}
			}
			o := auditObject("openpolicyagent/gatekeeper:v3.17.0", tc.args, nil, manager)
			fs := runRule(t, "audit-args-ignored", o)
			if len(fs) != len(tc.want) {
				for _, f := range fs {
					t.Log(f.Field, f.Message)
				}
				t.Fatalf("%d findings, want %d", len(fs), len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(fs[i].Message, w) {
					t.Errorf("finding %q, want it to contain %q", fs[i].Message, w)
				}
			}
			if s := model.NewSetup(model.DefaultOptions(), []render.Object{o}); s.Audits[0].Connection != tc.connection {
				t.Errorf("connection %q, want %q", s.Audits[0].Connection, tc.connection)
			}
		})
	}
}
