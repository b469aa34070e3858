package lint

import (
	"strings"
	"testing"
)

func TestExcluded(t *testing.T) {
	tests := []struct {
		path     string
		patterns []string
		want     bool
	}{
		{"deploy/tests/a.yaml", []string{"deploy/tests"}, true},
		{"deploy/tests/a.yaml", []string{"deploy/tests/"}, true},
		{"./deploy/tests/a.yaml", []string{"deploy/tests"}, true},
		{"deploy/tests/a.yaml", []string{"deploy/*/a.yaml"}, true},
		{"deploy/tests/a.yaml", []string{"tests"}, true},
		{"deploy/prod/a_test.yaml", []string{"*_test.yaml"}, true},
		{"deploy/prod/a.yaml", []string{"*_test.yaml", "tests"}, false},
		{"deploy/testsuite/a.yaml", []string{"deploy/tests"}, false},
		{"other/deploy/tests/a.yaml", []string{"deploy/tests"}, false},
		{"-", []string{"*"}, false},
		{"a.yaml", nil, false},
	}
	for _, tt := range tests {
		if got := excluded(tt.path, tt.patterns); got != tt.want {
			t.Errorf("excluded(%q, %q) = %v, want %v", tt.path, tt.patterns, got, tt.want)
		}
	}
	if err := CheckExclude([]string{"[x"}); err == nil || !strings.Contains(err.Error(), `--exclude "[x"`) {
		t.Errorf("CheckExclude([x) = %v", err)
	}
	if err := CheckExclude([]string{""}); err == nil {
		t.Error("CheckExclude accepts an empty pattern")
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
