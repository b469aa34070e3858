package lint

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// The deprecated aliases of the renamed rules (rules.Lookup).
const (
	aliasUnknown  = "connection-provider-unknown" // deprecated alias of connection-driver-unknown
	aliasMissing  = "connection-provider-missing" // deprecated alias of connection-driver-missing
	misspeltAlias = "connection-provider-unknwn"  // a misspelt deprecated alias: no rule
)

// TestDeprecatedRuleIDs: a deprecated alias in an ignore annotation, the
// config file or --enable/--disable stands for its rule (findings carry
// the rule's ID) and draws a warning naming that ID; an unknown ID still
// fails, or names no rule, as before.
func TestDeprecatedRuleIDs(t *testing.T) {
	const conn = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system%s}\n" +
		"data: {provider: Dapr, config: '{\"component\": \"pubsub\"}'}\n"
	plain := strings.ReplaceAll(conn, "%s", "")
	annotated := func(ann string) string { return strings.ReplaceAll(conn, "%s", ", annotations: {"+ann+"}") }
	tests := []struct {
		name     string
		in       string
		config   string   // the config file ("" none)
		enable   []string // --enable
		disable  []string // --disable
		err      string   // the config's or the flags' error
		rule     string   // connection-driver-unknown's findings: "error", "warning", "suppressed" or "none" (disabled)
		warnings []string // in the notes, or in the findings of ignore-rule-unknown
	}{
		{name: "annotation list with an alias", in: annotated(IgnoreAnnotation + ": '" + aliasUnknown + "'"), rule: "suppressed",
			warnings: []string{`annotation ` + IgnoreAnnotation + `: rule ID "` + aliasUnknown + `" is a deprecated alias of "connection-driver-unknown" and still works; write "connection-driver-unknown" instead`}},
		{name: "ignore-check annotation with an alias", in: annotated(IgnoreRulePrefix + aliasUnknown + ": 'Gatekeeper v3.13 reads Dapr'"), rule: "suppressed",
			warnings: []string{`annotation ` + IgnoreRulePrefix + aliasUnknown + `: rule ID "` + aliasUnknown + `" is a deprecated alias of "connection-driver-unknown" and still works; write the annotation ` + IgnoreRulePrefix + `connection-driver-unknown instead`}},
		{name: "annotation with a misspelt alias", in: annotated(IgnoreAnnotation + ": '" + misspeltAlias + "'"), rule: "error",
			warnings: []string{`"` + misspeltAlias + `" names no rule (did you mean "connection-driver-unknown"?), so it suppresses nothing`}},
		{name: "config disable with an alias", in: plain, config: "disable: [" + aliasUnknown + "]\n", rule: "none",
			warnings: []string{`config line 1: disable[0]: rule ID "` + aliasUnknown + `" is a deprecated alias of "connection-driver-unknown" and still works; write "connection-driver-unknown" instead`}},
		{name: "config severity with an alias", in: plain, config: "severity:\n  " + aliasUnknown + ": warning\n", rule: "warning",
			warnings: []string{`config line 2: severity.` + aliasUnknown + `: rule ID "` + aliasUnknown + `" is a deprecated alias`}},
		{name: "config severity with the ID and its alias", in: plain, config: "severity: {connection-driver-unknown: warning, " + aliasUnknown + ": none}\n",
			err: `rule connection-driver-unknown is given twice, as "connection-driver-unknown" and "` + aliasUnknown + `"`},
		{name: "config with a misspelt alias", in: plain, config: "disable: [" + misspeltAlias + "]\n",
			err: `disable[0]: unknown rule "` + misspeltAlias + `" (did you mean "connection-driver-unknown"?)`},
		{name: "--disable with an alias", in: plain, disable: []string{aliasUnknown, aliasMissing}, rule: "none",
			warnings: []string{`--disable: rule ID "` + aliasUnknown + `" is a deprecated alias of "connection-driver-unknown"`, `--disable: rule ID "` + aliasMissing + `" is a deprecated alias of "connection-driver-missing"`}},
		{name: "--enable with an alias of a rule the config disables", in: plain, config: "disable: [connection-driver-unknown]\n", enable: []string{aliasUnknown}, rule: "error",
			warnings: []string{`--enable: rule ID "` + aliasUnknown + `" is a deprecated alias of "connection-driver-unknown"`}},
		{name: "--enable and --disable the ID and its alias", in: plain, enable: []string{"connection-driver-unknown"}, disable: []string{aliasUnknown},
			err: "rule connection-driver-unknown is both enabled and disabled"},
		{name: "--disable with a misspelt alias", in: plain, disable: []string{misspeltAlias},
			err: `unknown rule "` + misspeltAlias + `" (did you mean "connection-driver-unknown"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *Config
			var err error
			if tt.config != "" {
				cfg, err = ParseConfig([]byte(tt.config))
			}
			if err == nil && len(tt.enable)+len(tt.disable) > 0 {
				cfg, err = cfg.WithRules(tt.enable, tt.disable)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(tt.in), Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			got := "none"
			var said []string
			for _, f := range res.Findings {
				if _, alias := ResolveRuleID(f.Rule); alias != "" {
					t.Errorf("a finding carries the deprecated alias: %+v", f)
				}
				switch f.Rule {
				case "connection-driver-unknown":
					got = string(f.Severity)
				case IgnoreUnknownRule:
					said = append(said, f.Message)
					if f.Severity != "warning" {
						t.Errorf("%s is not a warning: %+v", f.Rule, f)
					}
				}
			}
			for _, s := range res.Suppressed {
				if s.Rule == "connection-driver-unknown" {
					got = "suppressed"
				}
			}
			if got != tt.rule {
				t.Errorf("connection-driver-unknown: %s, want %s; findings %+v", got, tt.rule, res.Findings)
			}
			said = append(said, res.Notes...)
			for _, w := range tt.warnings {
				if !slices.ContainsFunc(said, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning %q among:\n%s", w, strings.Join(said, "\n"))
				}
			}
		})
	}
}

// TestLoadConfigAliasWarning: the warning of a deprecated alias in a
// config file names the file and the line, and the config holds the ID.
func TestLoadConfigAliasWarning(t *testing.T) {
	path := t.TempDir() + "/" + DefaultConfigFile
	c, err := parseConfig([]byte("disable:\n  - redis-no-tls\n  - "+aliasMissing+"\n  - connection-driver-missing\n"), path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Disable, ","); got != "redis-no-tls,connection-driver-missing" {
		t.Errorf("Disable %s, want the alias replaced by its rule's ID, once", got)
	}
	want := "config " + path + `:3: disable[1]: rule ID "` + aliasMissing + `" is a deprecated alias of "connection-driver-missing" and still works; write "connection-driver-missing" instead`
	if len(c.Warnings) != 1 || c.Warnings[0] != want {
		t.Errorf("Warnings %q, want [%q]", c.Warnings, want)
	}
}
