package input

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
