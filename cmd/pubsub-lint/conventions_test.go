package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// TestConventions covers the flags and exit codes pubsub-lint shares with
// kube-linter, kubeconform and helm: --version, help on standard output,
// rules ID and -o json, several formats in one run, --output,
// --enable/--disable, --exclude and ignore annotations with a reason.
func TestConventions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const conn = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system%s}\ndata: {provider: Dapr, config: '{\"component\": \"pubsub\"}'}\n"
	badConn := write("conn.yaml", strings.ReplaceAll(conn, "%s", ""))
	reasoned := write("reasoned.yaml", strings.ReplaceAll(conn, "%s", ", annotations: {ignore-check.pubsub-lint.gatekeeper-pubsub.io/connection-driver-unknown: 'Gatekeeper v3.13 reads Dapr', ignore-check.pubsub-lint.gatekeeper-pubsub.io/component-not-found: 'in another repository'}"))
	listed := write("listed.yaml", strings.ReplaceAll(conn, "%s", ", annotations: {pubsub-lint.gatekeeper-pubsub.io/ignore: 'connection-driver-unknown,component-not-found'}"))
	tree := filepath.Join(dir, "tree")
	write("tree/conn.yaml", readFile(t, badConn))
	write("tree/tests/bad.yaml", "a: b\n c: d\n")
	write("tree/x_test.yaml", "a: b\n c: d\n")
	cfg := write("cfg.yaml", "disable: [connection-driver-unknown]\n")
	other := write("other.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	misspelt := write("misspelt.yaml", strings.ReplaceAll(conn, "%s", ", annotations: {pubsub-lint.gatekeeper-pubsub.io/ignore: 'connection-driver-unkown', ignore-check.pubsub-lint.gatekeeper-pubsub.io/component-not-fond: 'elsewhere'}"))
	badCfgRule := write("cfg-rule.yaml", "disable:\n  - redis-no-tls\n  - redis-no-tsl\n")
	badCfgKey := write("cfg-key.yaml", "assume:\n  gatekeeperNamspace: gatekeeper-system\n")
	badCfgSev := write("cfg-sev.yaml", "severity:\n  redis-no-tls: fatal\n")
	badCfgSet := write("cfg-set.yaml", "# thresholds\nsettings:\n  forwarderMinRetention: ten\n")
	out := func(name string) string { return filepath.Join(dir, "out", name) }
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // contained in standard output ("!" first: not contained)
		stderr string
		files  map[string]string // file -> contained
	}{
		{"--version", []string{"--version"}, 0, "pubsub-lint " + version.Version + "\n", "", nil},
		{"--version wins over paths", []string{badConn, "--version"}, 0, "pubsub-lint " + version.Version, "", nil},
		{"--help on stdout", []string{"--help"}, 0, "usage: pubsub-lint [flags] PATH...", "", nil},
		{"-h on stdout", []string{"-h"}, 0, "-fail-on", "", nil},
		{"help", []string{"help"}, 0, "Exit status: 0 clean, 1 a finding", "", nil},
		{"help rules", []string{"help", "rules"}, 0, "usage: pubsub-lint rules [ID...]", "", nil},
		{"help version", []string{"help", "version"}, 0, "usage: pubsub-lint version", "", nil},
		{"help of nothing", []string{"help", "nope"}, 2, "", "help nope: want help", nil},
		{"rules --help", []string{"rules", "--help"}, 0, "-format string", "", nil},
		{"bad flag: usage hint on stderr, not help", []string{"--nope", qs}, 2, "!usage:", "Run 'pubsub-lint --help' for usage.", nil},
		{"rules ID", []string{"rules", "redis-no-tls"}, 0, "redis-no-tls [warning]", "", nil},
		{"rules ID shows one rule", []string{"rules", "redis-no-tls"}, 0, "!connection-not-found", "", nil},
		{"rules ID links its documentation", []string{"rules", "redis-no-tls"}, 0, "Documentation: " + version.Repository + "/blob/v" + version.Version + "/docs/rules.md#redis-no-tls", "", nil},
		{"rules input-error", []string{"rules", "input-error"}, 0, "input-error [error] (input)", "", nil},
		{"rules unknown ID", []string{"rules", "nope"}, 2, "", `unknown rule "nope"`, nil},
		{"rules -o json", []string{"rules", "-o", "json"}, 0, `"helpUri": "` + version.Repository, "", nil},
		{"rules ID -o json", []string{"rules", "connection-not-found", "--format=json"}, 0, `"id": "connection-not-found"`, "", nil},
		{"rules -o yaml", []string{"rules", "-o", "yaml"}, 2, "", "want text, json or markdown", nil},
		{"rules ID markdown", []string{"rules", "redis-no-tls", "-o", "markdown"}, 2, "", "leave out the rule IDs", nil},
		{"version -o json", []string{"version", "-o", "json"}, 0, `"version": "` + version.Version + `"`, "", nil},
		{"-o is --format", []string{"-o", "json", badConn}, 1, `"rule": "connection-driver-unknown"`, "", nil},
		{"two formats, one run", []string{"-o", "text", "-o", "sarif=" + out("a.sarif"), badConn}, 1, "error connection-driver-unknown", "",
			map[string]string{out("a.sarif"): `"ruleId": "connection-driver-unknown"`}},
		{"three formats", []string{badConn, "--format", "github", "-o", "json=" + out("b.json"), "-o", "text=" + out("b.txt")}, 1, "::error file=", "",
			map[string]string{out("b.json"): `"errors": 2`, out("b.txt"): "2 errors, 0 warnings"}},
		{"--output", []string{"--output", out("c.txt"), badConn}, 1, "!connection-driver-unknown", "", map[string]string{out("c.txt"): "error connection-driver-unknown"}},
		{"--output with a format", []string{"-o", "sarif", "--output", out("c.sarif"), "-o", "text=" + out("c2.txt"), badConn}, 1, "!error", "",
			map[string]string{out("c.sarif"): `"version": "2.1.0"`, out("c2.txt"): "2 errors"}},
		{"--output json is a mistake", []string{"--output", "json", badConn}, 2, "", "the format is -o json", nil},
		{"two formats on stdout", []string{"-o", "text", "-o", "json", badConn}, 2, "", "both go to standard output", nil},
		{"two formats to one file", []string{"-o", "text=" + out("d"), "-o", "json=" + out("d"), badConn}, 2, "", "both go to", nil},
		{"empty file name", []string{"-o", "sarif=", badConn}, 2, "", "file name is empty", nil},
		{"--output and every format has a file", []string{"--output", out("e"), "-o", "json=" + out("f"), badConn}, 2, "", "every --format has its own file", nil},
		{"unknown format with a file", []string{"-o", "xml=" + out("g"), badConn}, 2, "", `--format "xml"`, nil},
		{"unwritable output", []string{"-o", "text=" + filepath.Join(dir, "missing", "x.txt"), badConn}, 2, "", "writing text output", nil},
		{"input errors on stderr when no text on stdout", []string{"-o", "json=" + out("h.json"), tree}, 2, "", "invalid YAML", nil},
		{"--disable", []string{"--disable", "connection-driver-unknown", "--disable", "component-not-found", badConn}, 0, "0 errors", "", nil},
		{"--disable comma-separated", []string{"--disable=connection-driver-unknown,component-not-found", badConn, "--fail-on", "warning"}, 0, "0 errors, 0 warnings", "", nil},
		{"--enable what the config disables", []string{"--config", cfg, "--enable", "connection-driver-unknown", badConn}, 1, "connection-driver-unknown", "", nil},
		{"config disables without --enable", []string{"--config", cfg, badConn}, 1, "!connection-driver-unknown", "", nil},
		{"--disable unknown rule", []string{"--disable", "nope", badConn}, 2, "", `unknown rule "nope"`, nil},
		{"--enable and --disable one rule", []string{"--enable", "redis-no-tls", "--disable", "redis-no-tls", badConn}, 2, "", "both enabled and disabled", nil},
		{"--disable input-error", []string{"--disable", "input-error", badConn}, 2, "", "cannot be enabled or disabled", nil},
		{"--exclude a directory", []string{tree, "--exclude", filepath.Join(tree, "tests"), "--exclude", "*_test.yaml"}, 1, "note: --exclude left out 2 inputs", "", nil},
		{"--exclude a name anywhere", []string{tree, "--exclude", "tests", "--exclude", "x_test.yaml", "--fail-on", "none"}, 0, "2 errors, 0 warnings in 1 file", "", nil},
		{"without --exclude the input errors count", []string{tree}, 2, "tests/bad.yaml:2:1: error input-error", "", nil},
		{"--exclude everything", []string{badConn, "--exclude", "*.yaml"}, 0, "0 errors, 1 warning in 0 files", "", nil},
		// Inputs without any object of the setup: a warning, an error
		// with --fail-on-empty.
		{"no object of the setup", []string{other}, 0, other + ": warning setup-empty: no object of the pubsub setup among the inputs (" + other + "): read 1 object in 1 file", "", nil},
		{"--fail-on-empty", []string{"--fail-on-empty", other}, 1, other + ": error setup-empty: no object of the pubsub setup", "", nil},
		{"--fail-on-empty with a setup", []string{"--fail-on-empty", listed}, 0, "!setup-empty", "", nil},
		{"--fail-on-empty, everything excluded", []string{badConn, "--exclude", "*.yaml", "--fail-on-empty"}, 1, "error setup-empty", "", nil},
		{"setup-empty in json", []string{other, "-o", "json"}, 0, `"rule": "setup-empty"`, "", nil},
		// Unknown rule IDs name the closest rule.
		{"ignore annotation with an unknown rule", []string{misspelt}, 1, "warning ignore-rule-unknown: annotation pubsub-lint.gatekeeper-pubsub.io/ignore: \"connection-driver-unkown\" names no rule (did you mean \"connection-driver-unknown\"?), so it suppresses nothing", "", nil},
		{"ignore-check annotation with an unknown rule", []string{misspelt}, 1, "annotation ignore-check.pubsub-lint.gatekeeper-pubsub.io/component-not-fond: \"component-not-fond\" names no rule (did you mean \"component-not-found\"?)", "", nil},
		{"--disable with a misspelt rule", []string{"--disable", "redis-no-tsl", badConn}, 2, "", `unknown rule "redis-no-tsl" (did you mean "redis-no-tls"?)`, nil},
		{"--disable an engine rule", []string{"--disable", "setup-empty", badConn}, 2, "", "cannot be enabled or disabled", nil},
		// Config file errors name the file, the line and the key.
		{"config: unknown rule", []string{"--config", badCfgRule, badConn}, 2, "", "config " + badCfgRule + ":3: disable[1]: unknown rule \"redis-no-tsl\" (did you mean \"redis-no-tls\"?)", nil},
		{"config: unknown key", []string{"--config", badCfgKey, badConn}, 2, "", "config " + badCfgKey + ":2: assume.gatekeeperNamspace: unknown field \"gatekeeperNamspace\" (did you mean \"gatekeeperNamespace\"?)", nil},
		{"config: bad severity", []string{"--config", badCfgSev, badConn}, 2, "", "config " + badCfgSev + ":2: severity.redis-no-tls: unknown severity \"fatal\"", nil},
		{"config: bad setting", []string{"--config", badCfgSet, badConn}, 2, "", "config " + badCfgSet + ":3: settings.forwarderMinRetention: \"ten\" is not a positive Go duration", nil},
		{"--exclude bad glob", []string{badConn, "--exclude", "[x"}, 2, "", "--exclude \"[x\": syntax error in pattern", nil},
		{"ignore with a reason: suppressed count", []string{reasoned}, 0, "0 errors, 0 warnings, 2 suppressed in 1 file", "", nil},
		{"ignore list: suppressed count", []string{listed}, 0, "0 errors, 0 warnings, 2 suppressed in 1 file", "", nil},
		{"ignore with a reason in json", []string{reasoned, "-o", "json"}, 0, `"reason": "Gatekeeper v3.13 reads Dapr"`, "", nil},
		{"suppressed in the json summary", []string{listed, "-o", "json"}, 0, `"suppressed": 2`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			ok := code == tt.code && contains(stdout.String(), tt.stdout) && contains(stderr.String(), tt.stderr)
			if !ok {
				t.Errorf("exit %d, want %d; stdout want %q, stderr want %q\nstdout: %s\nstderr: %s", code, tt.code, tt.stdout, tt.stderr, stdout.String(), stderr.String())
			}
			for file, want := range tt.files {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				if !strings.Contains(string(b), want) {
					t.Errorf("%s does not contain %q:\n%s", file, want, b)
				}
			}
		})
	}
}

// contains is strings.Contains, or with a leading "!" its negation.
func contains(s, want string) bool {
	if rest, ok := strings.CutPrefix(want, "!"); ok {
		return !strings.Contains(s, rest)
	}
	return strings.Contains(s, want)
}

// TestSARIFTool checks the tool's version, informationUri and every rule's
// helpUri in SARIF.
func TestSARIFTool(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-o", "sarif", "-"}, strings.NewReader("a: b\n c: d\n"), &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stderr.String())
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name, Version, SemanticVersion, InformationURI string
					Rules                                          []struct{ ID, HelpURI string }
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	d := log.Runs[0].Tool.Driver
	if d.Version != version.Version || d.SemanticVersion != version.Version || d.InformationURI != version.Repository {
		t.Errorf("driver %+v: want version %s and informationUri %s", d, version.Version, version.Repository)
	}
	seen := map[string]bool{}
	for _, r := range d.Rules {
		seen[r.ID] = true
		if want := version.Repository + "/blob/v" + version.Version + "/docs/rules.md#" + r.ID; r.HelpURI != want {
			t.Errorf("rule %s: helpUri %q, want %q", r.ID, r.HelpURI, want)
		}
	}
	if !seen["input-error"] || !seen["redis-no-tls"] {
		t.Errorf("rules %v: want input-error (it occurred) and every rule", seen)
	}
}
