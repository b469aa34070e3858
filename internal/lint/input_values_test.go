package lint

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestChartValueFindings: values a chart's schema or fail checks refuse
// are findings of ChartValuesRule at the source of each value: the -f
// file's line (the last source wins, as in Helm), the --set expression
// (alone, out of a comma-separated list), or the chart's values.yaml.
func TestChartValueFindings(t *testing.T) {
	own := filepath.Join("..", "..", "test", "lint", "testdata", "cases", "chart-values-invalid", "good", "chart")
	project := filepath.Join("..", "..", "charts", "gatekeeper-pubsub")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scalar := write("scalar.yaml", "# the whole map as a string\nconnection: pubsub\n")
	nested := write("nested.yaml", "connection:\n  name: audit-connection\n  component: \"\"\n")
	// A copy of the case's chart whose own default fails its check.
	broken := filepath.Join(dir, "broken")
	for _, f := range []string{"Chart.yaml", "values.schema.json", "templates/connection.yaml", "templates/validate.yaml"} {
		b, err := os.ReadFile(filepath.Join(own, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(broken, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(broken, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(broken, "values.yaml"), []byte("connection:\n  name: audit-connection\n  component: \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := write("secret.yaml", "audit: {enablePubsub: true}\ncomponent:\n  metadata:\n    - name: redisHost\n      value: redis:6379\n    - name: redisPassword\n      value: hunter2\n")
	for _, tt := range []struct {
		name  string
		chart string
		opts  Options
		want  []string // "file:line:col message" ("" file: a flag)
	}{
		{"a scalar above the path", own, Options{ValueFiles: []string{scalar}},
			[]string{scalar + ":2:1 value connection: got string, want object"}},
		{"--set, one of a list", own, Options{Set: []string{"replicas=2,connection.name=7"}},
			[]string{":0:0 --set connection.name=7: value connection.name: got number, want string"}},
		{"--set with a list value stays whole", own, Options{Set: []string{"connection.name={a,b}"}},
			[]string{":0:0 --set connection.name={a,b}: value connection.name: got array, want string"}},
		{"--set-string", own, Options{SetString: []string{"replicas=3"}},
			[]string{":0:0 --set-string replicas=3: value replicas: got string, want integer"}},
		{"the later source wins", own, Options{ValueFiles: []string{scalar}, Set: []string{"connection=x"}},
			[]string{":0:0 --set connection=x: value connection: got string, want object"}},
		{"fail: the key the message names", own, Options{ValueFiles: []string{nested}},
			[]string{nested + ":3:3 chart " + own + " refuses the values (the check at " + filepath.ToSlash(own) + "/templates/validate.yaml:2): connection.component is empty"}},
		{"fail: the chart's own default", broken, Options{Set: []string{"replicas=2"}},
			[]string{filepath.Join(broken, "values.yaml") + ":3:3 chart " + broken + " refuses the values (the check at " + filepath.ToSlash(broken) + "/templates/validate.yaml:2): connection.component is empty"}},
		{"fail: a list item", project, Options{ValueFiles: []string{secret}, Namespace: "gatekeeper-system"},
			[]string{secret + ":6:7 chart " + project + " refuses the values (the check at " + filepath.ToSlash(project) + "/templates/validate.yaml:*): component.metadata[1]: redisPassword is a secret"}},
		{"fail: the flag of the first value the message names that one sets", project, Options{Set: []string{"audit.enablePubsub=true", "component.type=pubsub.kafka"}, Namespace: "gatekeeper-system"},
			[]string{":0:0 --set component.type=pubsub.kafka: chart " + project + " refuses the values"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Paths = []string{tt.chart}
			res, err := Run(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				if f.Rule == ChartValuesRule {
					got = append(got, f.File+":"+strconv.Itoa(f.Line)+":"+strconv.Itoa(f.Column)+" "+f.Message)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !startsWith(got[i], tt.want[i]) {
					t.Errorf("finding:\n%s\nwant it to start with:\n%s", got[i], tt.want[i])
				}
			}
			if len(res.Errors) > 0 || !res.Fails("error") {
				t.Errorf("input errors %v, fails %v: want findings that fail the run", res.Errors, res.Fails("error"))
			}
		})
	}
}

// startsWith says whether s starts with pattern, in which "*" stands for
// any text without a space (a line of the project's chart, which changes).
func startsWith(s, pattern string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(s, p)
		if i < 0 || strings.Contains(s[:i], " ") {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
