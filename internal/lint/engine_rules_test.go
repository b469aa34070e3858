package lint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

// TestConfigErrorsNameLineAndKey: every error of a config file gives its
// line and the key, and a misspelt rule ID or key the closest one.
func TestConfigErrorsNameLineAndKey(t *testing.T) {
	for _, tt := range []struct {
		in   string
		line int
		key  string
		msg  string
	}{
		{"disable:\n  - redis-no-tls\n  - redis-no-tsl\n", 3, "disable[1]", `unknown rule "redis-no-tsl" (did you mean "redis-no-tls"?)`},
		{"disable: [nothing-like-any-rule-at-all]\n", 1, "disable[0]", `unknown rule "nothing-like-any-rule-at-all"; pubsub-lint rules lists them`},
		{"disable: [input-error]\n", 1, "disable[0]", "is the engine's and cannot be disabled"},
		{"disable: redis-no-tls\n", 1, "disable", "want a list of rule IDs"},
		{"# comment\nseverity:\n  redis-no-tls: fatal\n", 3, "severity.redis-no-tls", `unknown severity "fatal"`},
		{"severity:\n  component-scopez: error\n", 2, "severity.component-scopez", `(did you mean "component-scopes"?)`},
		{"disabel: [redis-no-tls]\n", 1, "disabel", `unknown field "disabel" (did you mean "disable"?)`},
		{"assume:\n  gatekeeperNamspace: x\n", 2, "assume.gatekeeperNamspace", `unknown field "gatekeeperNamspace" (did you mean "gatekeeperNamespace"?)`},
		{"assume:\n  daprDropAllCapabilities: maybe\n", 2, "assume.daprDropAllCapabilities", `"maybe" is not true or false`},
		{"settings:\n\n  forwarderMinRetention: 0s\n", 3, "settings.forwarderMinRetention", "positive Go duration"},
		{"settings: [a]\n", 1, "settings", "want a map"},
		{"- a\n", 1, "", "want a map of disable, severity, assume and settings"},
		{"disable: [a\n", 1, "", "yaml:"},
		{`{"disable": ["redis-no-tsl"]}`, 1, "disable[0]", `did you mean "redis-no-tls"`},
	} {
		_, err := ParseConfig([]byte(tt.in))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Line != tt.line || ce.Key != tt.key || !strings.Contains(ce.Msg, tt.msg) {
			t.Errorf("ParseConfig(%q) = %#v, want line %d, key %q, message with %q", tt.in, err, tt.line, tt.key, tt.msg)
		}
	}
	// LoadConfig names the file.
	path := filepath.Join(t.TempDir(), ".pubsub-lint.yaml")
	if err := os.WriteFile(path, []byte("disable:\n  - redis-no-tsl\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if want := "config " + path + ":2: disable[0]: unknown rule \"redis-no-tsl\" (did you mean \"redis-no-tls\"?)"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("LoadConfig: %v, want %q", err, want)
	}
}

func TestNearestRuleID(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"redis-no-tsl", "redis-no-tls"},
		{"Redis-No-TLS", "redis-no-tls"},
		{"connection-driver-unkown", "connection-driver-unknown"},
		{"component-scope", "component-scopes"},
		{"driver-unknown", "connection-driver-unknown"},
		{"connection-provider-unkown", "connection-driver-unknown"}, // a misspelt deprecated alias: its rule's ID
		{"provider-missing", "connection-driver-missing"},           // part of a deprecated alias
		{"xyz", ""},
		{"", ""},
	} {
		if got := nearestRuleID(tt.in); got != tt.want {
			t.Errorf("nearestRuleID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWithRulesUnknown: --enable/--disable name the closest rule of a
// misspelt ID; the engine's rules cannot be turned off.
func TestWithRulesUnknown(t *testing.T) {
	for _, tt := range []struct {
		enable, disable []string
		want            string
	}{
		{nil, []string{"redis-no-tsl"}, `unknown rule "redis-no-tsl" (did you mean "redis-no-tls"?)`},
		{[]string{"component-scope"}, nil, `(did you mean "component-scopes"?)`},
		{nil, []string{SetupEmptyRule}, "cannot be enabled or disabled"},
		{nil, []string{ChartValuesRule}, "cannot be enabled or disabled"},
	} {
		_, err := (*Config)(nil).WithRules(tt.enable, tt.disable)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WithRules(%v, %v) = %v, want %q", tt.enable, tt.disable, err, tt.want)
		}
	}
}

// TestIgnoreUnknownRule: an ignore annotation that names no rule is a
// warning on the annotation, naming the closest rule; known IDs are not.
func TestIgnoreUnknownRule(t *testing.T) {
	const conn = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: audit-connection\n  namespace: gatekeeper-system\n  annotations:\n%s\ndata: {provider: dapr, config: '{\"component\": \"pubsub\"}'}\n"
	for _, tt := range []struct {
		name, annotations string
		want              []string // line: message part
	}{
		{"list", "    pubsub-lint.gatekeeper-pubsub.io/ignore: \"component-not-found, redis-no-tsl\"",
			[]string{`7: annotation pubsub-lint.gatekeeper-pubsub.io/ignore: "redis-no-tsl" names no rule (did you mean "redis-no-tls"?)`}},
		{"with a reason", "    ignore-check.pubsub-lint.gatekeeper-pubsub.io/component-not-fund: \"elsewhere\"",
			[]string{`7: annotation ignore-check.pubsub-lint.gatekeeper-pubsub.io/component-not-fund: "component-not-fund" names no rule (did you mean "component-not-found"?)`}},
		{"an engine rule", "    pubsub-lint.gatekeeper-pubsub.io/ignore: input-error",
			[]string{`7: annotation pubsub-lint.gatekeeper-pubsub.io/ignore: "input-error" names a rule that cannot be ignored`}},
		{"known", "    pubsub-lint.gatekeeper-pubsub.io/ignore: component-not-found", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(conn, "%s", tt.annotations, 1)
			res, err := Run(context.Background(), Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(in)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				if f.Rule == IgnoreUnknownRule {
					if f.Severity != rules.Warning || f.File != StdinSource {
						t.Errorf("finding %+v: want a warning on %s", f, StdinSource)
					}
					got = append(got, strings.TrimSuffix(f.Message, ", so it suppresses nothing; pubsub-lint rules lists the rule IDs"))
					got[len(got)-1] = strconv.Itoa(f.Line) + ": " + got[len(got)-1]
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestSetupEmpty: inputs without an object of the setup are one warning
// (an error with FailOnEmpty), not when a tree of setups has one, nor
// when an input failed.
func TestSetupEmpty(t *testing.T) {
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
	const conn = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: dapr, config: '{\"component\": \"pubsub\"}'}\n"
	svc := write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	ns := write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n")
	setup := write("conn.yaml", conn)
	bad := write("bad.yaml", "a: b\n c: d\n")
	// A tree of two kustomizations: one with the setup, one without.
	write("tree/a/kustomization.yaml", "resources: [conn.yaml]\n")
	write("tree/a/conn.yaml", conn)
	write("tree/b/kustomization.yaml", "resources: [svc.yaml]\n")
	write("tree/b/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	write("empty/b/kustomization.yaml", "resources: [svc.yaml]\n")
	write("empty/b/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	write("empty/c/kustomization.yaml", "resources: [svc.yaml]\n")
	write("empty/c/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n")
	for _, tt := range []struct {
		name        string
		paths       []string
		failOnEmpty bool
		want        rules.Severity // "": no finding
		file        string
	}{
		{"an unrelated object", []string{svc}, false, rules.Warning, svc},
		{"a Namespace is not the setup", []string{ns}, false, rules.Warning, ns},
		{"--fail-on-empty", []string{svc}, true, rules.Error, svc},
		{"two paths: no file", []string{svc, ns}, false, rules.Warning, ""},
		{"with the setup", []string{svc, setup}, true, "", ""},
		{"an input error says more", []string{svc, bad}, true, "", ""},
		{"a tree with one setup", []string{filepath.Join(dir, "tree")}, true, "", ""},
		{"a tree without any: once", []string{filepath.Join(dir, "empty")}, false, rules.Warning, filepath.Join(dir, "empty")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := Run(context.Background(), Options{Paths: tt.paths, FailOnEmpty: tt.failOnEmpty})
			if res == nil {
				t.Fatal("no result")
			}
			var got []Finding
			for _, f := range res.Findings {
				if f.Rule == SetupEmptyRule {
					got = append(got, f)
				}
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("unexpected %+v", got)
			case tt.want != "" && (len(got) != 1 || got[0].Severity != tt.want || got[0].File != tt.file ||
				!strings.Contains(got[0].Message, "no object of the pubsub setup among the inputs")):
				t.Errorf("findings %+v, want one %s on %q", got, tt.want, tt.file)
			}
			if tt.want == rules.Error && !res.Fails(rules.Error) {
				t.Errorf("does not fail")
			}
		})
	}
}
