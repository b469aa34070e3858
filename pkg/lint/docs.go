package lint

import (
	"bytes"
	"fmt"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/rules"
)

// RulesMarkdown renders every rule of the registry as docs/rules.md.
func RulesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("# pubsub-lint rules\n\n")
	b.WriteString("<!-- Generated from pkg/lint/rules by `go test ./pkg/lint -run TestRulesDoc -update`; do not edit. -->\n\n")
	b.WriteString("Rule IDs are part of pubsub-lint's interface. Silence a rule on one object with the annotation\n")
	fmt.Fprintf(&b, "`%s: \"rule-a,rule-b\"`, or for every object in `%s`:\n\n", IgnoreAnnotation, DefaultConfigFile)
	b.WriteString("```yaml\ndisable: [component-metadata-unknown]\nseverity:\n  audit-pubsub-disabled: error\n# thresholds of rules\nsettings:\n  forwarderMinRetention: 10m   # forwarder-retention-short\n```\n\n")
	b.WriteString("| Rule | Severity | Finds |\n|---|---|---|\n")
	for _, r := range rules.All() {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", r.ID, r.ID, r.Severity, r.Summary)
	}
	cat := ""
	for _, r := range rules.All() {
		if r.Category != cat {
			cat = r.Category
			fmt.Fprintf(&b, "\n## %s\n", cat)
		}
		fmt.Fprintf(&b, "\n### %s\n\n", r.ID)
		fmt.Fprintf(&b, "Severity: **%s**\n\n%s\n\n%s\n\n**Remediation:** %s\n", r.Severity, r.Summary, r.Doc, r.Remediation)
	}
	return b.Bytes()
}
