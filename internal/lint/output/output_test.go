package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// sample is a result with a rule finding, an input error and notes.
func sample() *lint.Result {
	return &lint.Result{
		Findings: []lint.Finding{
			{Rule: lint.InputErrorRule, Severity: "error", Message: "invalid YAML: yaml: line 2: mapping values are not allowed in this context", File: "dir/bad.yaml", Line: 2},
			{Rule: "connection-driver-unknown", Severity: "error", Message: `provider "Dapr" is not supported`, File: "dir/conn.yaml", Line: 4, Column: 7,
				Object: lint.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "gatekeeper-system", Name: "audit-connection"}, Field: "data.provider"},
		},
		Files:   1,
		Objects: 1,
		Notes:   []string{"skipped dir/fifo.yaml: a named pipe (FIFO), not a regular file", "1 input could not be loaded: 100% sure, line\nbreak"},
		Errors:  []error{errors.New("reading dir/bad.yaml: dir/bad.yaml:2: invalid YAML")},
	}
}

func clean() *lint.Result { return &lint.Result{Findings: []lint.Finding{}, Files: 4, Objects: 5} }

func TestText(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  *lint.Result
		want string
	}{
		{"notes after findings", sample(), "dir/bad.yaml:2:1: error input-error: invalid YAML: yaml: line 2: mapping values are not allowed in this context\n" +
			"dir/conn.yaml:4:7: error connection-driver-unknown: provider \"Dapr\" is not supported (ConfigMap gatekeeper-system/audit-connection)\n" +
			"note: skipped dir/fifo.yaml: a named pipe (FIFO), not a regular file\n" +
			"note: 1 input could not be loaded: 100% sure, line\nbreak\n" +
			"2 errors, 0 warnings in 1 file (1 object)\n"},
		{"clean", clean(), "0 errors, 0 warnings in 4 files (5 objects)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write("text", &b, tt.res); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestGitHub(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  *lint.Result
		want string
	}{
		{"notes as notices", sample(), "::error file=dir/bad.yaml,line=2,col=1,title=input-error::invalid YAML: yaml: line 2: mapping values are not allowed in this context\n" +
			"::error file=dir/conn.yaml,line=4,col=7,title=connection-driver-unknown::provider \"Dapr\" is not supported (ConfigMap gatekeeper-system/audit-connection)\n" +
			"::notice::skipped dir/fifo.yaml: a named pipe (FIFO), not a regular file\n" +
			"::notice::1 input could not be loaded: 100%25 sure, line%0Abreak\n"},
		{"clean", clean(), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write("github", &b, tt.res); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	for _, tt := range []struct {
		name        string
		res         *lint.Result
		notes       []string
		inputErrors int
		errors      int
		warnings    int
		hasKeys     []string
		noKeys      []string
	}{
		{"notes and input errors", sample(), sample().Notes, 1, 2, 0, []string{`"notes": [`, `"inputErrors": 1`, `"rule": "input-error"`}, nil},
		// A clean run reads as before: no notes key, no inputErrors.
		{"clean", clean(), nil, 0, 0, 0, []string{`"findings": []`}, []string{"notes", "inputErrors"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write("json", &b, tt.res); err != nil {
				t.Fatal(err)
			}
			var rep JSONReport
			if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if strings.Join(rep.Notes, "|") != strings.Join(tt.notes, "|") || rep.Summary.InputErrors != tt.inputErrors ||
				rep.Summary.Errors != tt.errors || rep.Summary.Warnings != tt.warnings {
				t.Errorf("notes %q, summary %+v; want notes %q, %d input errors, %d errors, %d warnings", rep.Notes, rep.Summary, tt.notes, tt.inputErrors, tt.errors, tt.warnings)
			}
			for _, k := range tt.hasKeys {
				if !strings.Contains(b.String(), k) {
					t.Errorf("no %s in\n%s", k, b.String())
				}
			}
			for _, k := range tt.noKeys {
				if strings.Contains(b.String(), k) {
					t.Errorf("%s in\n%s", k, b.String())
				}
			}
		})
	}
}

type sarifOut struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string `json:"id"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        *bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
		} `json:"results"`
	} `json:"runs"`
}

func TestSARIF(t *testing.T) {
	onlyNotes := clean()
	onlyNotes.Notes = []string{"assumed the audit runs in gatekeeper-system"}
	for _, tt := range []struct {
		name string
		res  *lint.Result
		// want: notifications as "level: text"; invocation: whether there
		// is one; ok: its executionSuccessful.
		want       []string
		invocation bool
		ok         bool
	}{
		{"notes and input errors", sample(), []string{
			"error: invalid YAML: yaml: line 2: mapping values are not allowed in this context",
			"note: skipped dir/fifo.yaml: a named pipe (FIFO), not a regular file",
			"note: 1 input could not be loaded: 100% sure, line\nbreak",
		}, true, false},
		{"only notes", onlyNotes, []string{"note: assumed the audit runs in gatekeeper-system"}, true, true},
		{"clean: no invocation", clean(), nil, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write("sarif", &b, tt.res); err != nil {
				t.Fatal(err)
			}
			var log sarifOut
			if err := json.Unmarshal(b.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			run := log.Runs[0]
			if !tt.invocation {
				if len(run.Invocations) != 0 {
					t.Errorf("invocations in %s", b.String())
				}
				return
			}
			if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful == nil || *run.Invocations[0].ExecutionSuccessful != tt.ok {
				t.Fatalf("invocations: want one with executionSuccessful %v:\n%s", tt.ok, b.String())
			}
			var got []string
			for _, n := range run.Invocations[0].ToolExecutionNotifications {
				got = append(got, n.Level+": "+n.Message.Text)
				if n.Level == "error" && (len(n.Locations) != 1 || n.Locations[0].PhysicalLocation.ArtifactLocation.URI != "dir/bad.yaml" || n.Locations[0].PhysicalLocation.Region.StartLine != 2) {
					t.Errorf("input error notification without its location: %+v", n)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("notifications %q, want %q", got, tt.want)
			}
			// Every finding is a result, and its ruleIndex points at its rule.
			if len(run.Results) != len(tt.res.Findings) {
				t.Fatalf("%d results for %d findings", len(run.Results), len(tt.res.Findings))
			}
			rules := run.Tool.Driver.Rules
			for _, r := range run.Results {
				if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID {
					t.Errorf("result %s has ruleIndex %d", r.RuleID, r.RuleIndex)
				}
			}
			last := rules[len(rules)-1]
			if hasInputError := tt.res.InputErrors() > 0; hasInputError != (last.ID == lint.InputErrorRule) || (hasInputError && last.DefaultConfiguration.Level != "error") {
				t.Errorf("last rule %+v; input-error described: want %v", last, hasInputError)
			}
		})
	}
}

// TestSuppressed: findings an ignore annotation suppressed are SARIF
// results with a suppression (kind inSource, the annotation's reason as
// the justification), and the text summary counts them.
func TestSuppressed(t *testing.T) {
	conn := lint.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "gatekeeper-system", Name: "audit-connection"}
	res := &lint.Result{
		Findings: []lint.Finding{{Rule: "redis-no-tls", Severity: "warning", Message: "no TLS", File: "c.yaml", Line: 3, Column: 1}},
		Suppressed: []lint.Suppressed{
			{Finding: lint.Finding{Rule: "connection-driver-unknown", Severity: "error", Message: `provider "Dapr"`, File: "conn.yaml", Line: 4, Column: 7, Object: conn, Field: "data.provider"},
				Annotation: lint.IgnoreRulePrefix + "connection-driver-unknown", Reason: "Gatekeeper v3.13 reads Dapr"},
			{Finding: lint.Finding{Rule: "component-not-found", Severity: "error", Message: "no Component", File: "conn.yaml", Line: 9, Column: 3, Object: conn},
				Annotation: lint.IgnoreAnnotation},
		},
		Files: 2, Objects: 2,
	}
	tests := []struct {
		rule, kind, justification, annotation string
	}{
		{"redis-no-tls", "", "", ""},
		{"connection-driver-unknown", "inSource", "Gatekeeper v3.13 reads Dapr", lint.IgnoreRulePrefix + "connection-driver-unknown"},
		{"component-not-found", "inSource", "listed in annotation " + lint.IgnoreAnnotation, lint.IgnoreAnnotation},
	}
	var b bytes.Buffer
	if err := Write("sarif", &b, res); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string `json:"ruleId"`
				RuleIndex    int    `json:"ruleIndex"`
				Suppressions []struct {
					Kind          string            `json:"kind"`
					Status        string            `json:"status"`
					Justification string            `json:"justification"`
					Properties    map[string]string `json:"properties"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Results) != len(tests) {
		t.Fatalf("%d results, want %d (the finding and the 2 suppressed):\n%s", len(run.Results), len(tests), b.String())
	}
	for i, tt := range tests {
		r := run.Results[i]
		if r.RuleID != tt.rule || run.Tool.Driver.Rules[r.RuleIndex].ID != tt.rule {
			t.Errorf("result %d: rule %s (index %d), want %s", i, r.RuleID, r.RuleIndex, tt.rule)
		}
		if tt.kind == "" {
			if len(r.Suppressions) != 0 {
				t.Errorf("result %d (%s) is not suppressed but has %+v", i, tt.rule, r.Suppressions)
			}
			continue
		}
		if len(r.Suppressions) != 1 || r.Suppressions[0].Kind != tt.kind || r.Suppressions[0].Status != "accepted" ||
			r.Suppressions[0].Justification != tt.justification || r.Suppressions[0].Properties["annotation"] != tt.annotation {
			t.Errorf("result %d (%s): suppressions %+v, want kind %s, justification %q, annotation %s", i, tt.rule, r.Suppressions, tt.kind, tt.justification, tt.annotation)
		}
	}
	b.Reset()
	if err := Write("text", &b, res); err != nil {
		t.Fatal(err)
	}
	if want := "0 errors, 1 warning, 2 suppressed in 2 files (2 objects)\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("text summary:\n%s\nwant it to end with %q", b.String(), want)
	}
}
