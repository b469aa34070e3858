package lint

import (
	"context"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"", ""},
		{"disable: [component-scopes]\nseverity: {audit-pubsub-disabled: error}\n", ""},
		{"disable: [no-such-rule]\n", "unknown rule"},
		{"severity: {component-scopes: fatal}\n", "unknown severity"},
		{"ignore: [x]\n", "unknown field"},
		{"settings: {forwarderMinRetention: 10m}\n", ""},
		{"settings: {forwarderMinRetention: ten minutes}\n", "settings.forwarderMinRetention"},
		{"settings: {forwarderMinRetention: 0s}\n", "positive"},
		{"settings: {forwarderRetention: 10m}\n", "unknown field"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.in))
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseConfig(%q) = %v, want error containing %q", tt.in, err, tt.err)
		}
	}
}

func TestConfigSeverity(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: Dapr, config: '{'}\n"
	run := func(cfg string) *Result {
		c, err := ParseConfig([]byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(in), Config: c})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	count := func(res *Result, rule string, sev rules.Severity) int {
		n := 0
		for _, f := range res.Findings {
			if f.Rule == rule && f.Severity == sev {
				n++
			}
		}
		return n
	}
	res := run("")
	if count(res, "connection-driver-unknown", rules.Error) != 1 || count(res, "connection-config-json", rules.Error) != 1 {
		t.Fatalf("without config, want one error of connection-driver-unknown and of connection-config-json: %+v", res.Findings)
	}
	res = run("severity: {connection-driver-unknown: warning}\ndisable: [connection-config-json]\n")
	if count(res, "connection-driver-unknown", rules.Warning) != 1 || count(res, "connection-driver-unknown", rules.Error) != 0 {
		t.Errorf("severity not changed to warning: %+v", res.Findings)
	}
	for _, f := range res.Findings {
		if f.Rule == "connection-config-json" {
			t.Errorf("disabled rule reported: %+v", f)
		}
	}
}

func TestInputErrors(t *testing.T) {
	for _, tt := range []struct {
		paths []string
		stdin string
		want  string
	}{
		{[]string{"testdata/none.yaml"}, "", "testdata/none.yaml"},
		{[]string{StdinPath}, "a: b\n c: d\n", "<stdin>:2"},
		{[]string{StdinPath, StdinPath}, "", "twice"},
		{nil, "", "no PATH"},
	} {
		_, err := Run(context.Background(), Options{Paths: tt.paths, Stdin: strings.NewReader(tt.stdin)})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%v) error %v, want %q", tt.paths, err, tt.want)
		}
	}
}

func TestWithRules(t *testing.T) {
	base := &Config{Disable: []string{"redis-no-tls", "component-not-found"}}
	c, err := base.WithRules([]string{"redis-no-tls"}, []string{"connection-not-found"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Disable, ","); got != "component-not-found,connection-not-found" {
		t.Errorf("Disable %s", got)
	}
	if got := strings.Join(base.Disable, ","); got != "redis-no-tls,component-not-found" {
		t.Errorf("the config file's Disable changed: %s", got)
	}
	var none *Config
	if c, err := none.WithRules(nil, []string{"redis-no-tls"}); err != nil || len(c.Disable) != 1 {
		t.Errorf("nil config: %v, %v", c, err)
	}
	for _, tt := range []struct {
		enable, disable []string
		want            string
	}{
		{nil, []string{"nope"}, `unknown rule "nope"`},
		{[]string{"nope"}, nil, `unknown rule "nope"`},
		{[]string{"redis-no-tls"}, []string{"redis-no-tls"}, "both enabled and disabled"},
		{nil, []string{InputErrorRule}, "cannot be enabled or disabled"},
	} {
		if _, err := base.WithRules(tt.enable, tt.disable); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WithRules(%q, %q) = %v, want %q", tt.enable, tt.disable, err, tt.want)
		}
	}
}
