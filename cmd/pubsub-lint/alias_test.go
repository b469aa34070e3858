package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The deprecated aliases of the renamed rules (rules.Lookup).
const (
	aliasUnknown  = "connection-provider-unknown" // deprecated alias of connection-driver-unknown
	misspeltAlias = "connection-provider-unknwn"  // a misspelt deprecated alias: no rule
)

// TestDeprecatedRuleIDs: on the command line, a deprecated alias in an
// ignore annotation, the config file, --enable/--disable and `rules ID`
// stands for its rule, whose findings carry its ID, with a warning that
// names the ID; an unknown rule ID still fails as before.
func TestDeprecatedRuleIDs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const conn = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system%s}\ndata: {provider: Dapr, config: '{\"component\": \"pubsub\"}'}\n"
	badConn := write("conn.yaml", strings.ReplaceAll(conn, "%s", ""))
	listed := write("listed.yaml", strings.ReplaceAll(conn, "%s", ", annotations: {pubsub-lint.gatekeeper-pubsub.io/ignore: '"+aliasUnknown+",component-not-found'}"))
	reasoned := write("reasoned.yaml", strings.ReplaceAll(conn, "%s", ", annotations: {ignore-check.pubsub-lint.gatekeeper-pubsub.io/"+aliasUnknown+": 'Gatekeeper v3.13 reads Dapr'}"))
	misspelt := write("misspelt.yaml", strings.ReplaceAll(conn, "%s", ", annotations: {pubsub-lint.gatekeeper-pubsub.io/ignore: '"+misspeltAlias+"'}"))
	cfgAlias := write("cfg-alias.yaml", "disable: ["+aliasUnknown+", component-not-found]\n")
	cfgSeverity := write("cfg-severity.yaml", "severity:\n  "+aliasUnknown+": warning\n")
	cfgNew := write("cfg-new.yaml", "disable: [connection-driver-unknown]\n")
	cfgMisspelt := write("cfg-misspelt.yaml", "disable: ["+misspeltAlias+"]\n")
	const deprecated = `rule ID "` + aliasUnknown + `" is a deprecated alias of "connection-driver-unknown" and still works`
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each contained in standard output ("!" first: not contained)
		stderr string
	}{
		// (a) ignore annotations.
		{"annotation list with an alias suppresses", []string{listed}, 0, []string{"2 suppressed", "!error connection-driver-unknown",
			"warning ignore-rule-unknown: annotation pubsub-lint.gatekeeper-pubsub.io/ignore: " + deprecated + `; write "connection-driver-unknown" instead`}, ""},
		{"ignore-check annotation with an alias suppresses", []string{reasoned, "--disable", "component-not-found"}, 0, []string{"1 suppressed",
			"annotation ignore-check.pubsub-lint.gatekeeper-pubsub.io/" + aliasUnknown + ": " + deprecated + "; write the annotation ignore-check.pubsub-lint.gatekeeper-pubsub.io/connection-driver-unknown instead"}, ""},
		{"annotation alias in json: the suppressed finding carries the ID", []string{listed, "-o", "json"}, 0, []string{`"rule": "connection-driver-unknown"`, `"rule": "ignore-rule-unknown"`}, ""},
		{"annotation with a misspelt alias suppresses nothing", []string{misspelt}, 1, []string{"error connection-driver-unknown",
			`"` + misspeltAlias + `" names no rule (did you mean "connection-driver-unknown"?), so it suppresses nothing`}, ""},
		// (b) the config file.
		{"config disable with an alias", []string{"--config", cfgAlias, badConn}, 0, []string{"0 errors", "note: config " + cfgAlias + ":1: disable[0]: " + deprecated}, ""},
		{"config severity with an alias", []string{"--config", cfgSeverity, badConn, "--fail-on", "none"}, 0, []string{"warning connection-driver-unknown: data.provider: driver \"Dapr\"",
			"note: config " + cfgSeverity + ":2: severity." + aliasUnknown + ": " + deprecated}, ""},
		{"config with a misspelt alias fails", []string{"--config", cfgMisspelt, badConn}, 2, nil,
			"config " + cfgMisspelt + `:1: disable[0]: unknown rule "` + misspeltAlias + `" (did you mean "connection-driver-unknown"?)`},
		// (c) --enable/--disable.
		{"--disable with an alias", []string{"--disable", aliasUnknown + ",component-not-found", badConn}, 0, []string{"0 errors", "note: --disable: " + deprecated}, ""},
		{"--enable with an alias of a rule the config disables", []string{"--config", cfgNew, "--enable", aliasUnknown, badConn}, 1,
			[]string{"error connection-driver-unknown", "note: --enable: " + deprecated}, ""},
		{"--disable with a misspelt alias fails", []string{"--disable", misspeltAlias, badConn}, 2, nil,
			`--enable/--disable: unknown rule "` + misspeltAlias + `" (did you mean "connection-driver-unknown"?)`},
		{"the new ID draws no warning", []string{"--disable", "connection-driver-unknown,component-not-found", badConn}, 0, []string{"0 errors", "!deprecated"}, ""},
		// `pubsub-lint rules ID`.
		{"rules with an alias", []string{"rules", aliasUnknown}, 0, []string{"connection-driver-unknown [error]", "Deprecated aliases: " + aliasUnknown}, "pubsub-lint: warning: " + deprecated},
		{"rules with a misspelt alias fails", []string{"rules", misspeltAlias}, 2, nil, `unknown rule "` + misspeltAlias + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errb)
			ok := code == tt.code && strings.Contains(errb.String(), tt.stderr)
			for _, s := range tt.stdout {
				if not, found := strings.CutPrefix(s, "!"); found {
					ok = ok && !strings.Contains(out.String(), not)
				} else {
					ok = ok && strings.Contains(out.String(), s)
				}
			}
			if strings.Contains(out.String(), `"rule": "`+aliasUnknown+`"`) || strings.Contains(out.String(), " "+aliasUnknown+": ") { // no finding carries the alias
				ok = false
			}
			if !ok {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
		})
	}
}
