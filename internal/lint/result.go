package lint

import (
	"errors"
	"fmt"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/input"
	"sort"
)

// InputErrorRule is the rule ID of the findings that report an input (a
// file, standard input, a chart or a kustomization) that could not be read,
// parsed or rendered. It is not a rule of internal/lint/rules: it cannot be
// disabled, and a run with such a finding has Result.Errors (the CLI exits
// 2).
const InputErrorRule = "input-error"

// The engine's other rules, which are not rules of internal/lint/rules either
// (they cannot be disabled; docs.go describes them):
const (
	// ChartValuesRule: a chart's values fail its values.schema.json or a
	// template's fail or required check. Its findings are on the values
	// (the -f file and line, or the --set flag) and fail the run as errors.
	ChartValuesRule = input.ChartValuesRule
	// SetupEmptyRule: no input object is part of the setup (a warning; an
	// error with Options.FailOnEmpty).
	SetupEmptyRule = "setup-empty"
	// IgnoreUnknownRule: an ignore annotation names a rule that does not
	// exist.
	IgnoreUnknownRule = "ignore-rule-unknown"
)

// engineRule says whether id is one of the engine's rules.
func engineRule(id string) bool {
	switch id {
	case InputErrorRule, ChartValuesRule, SetupEmptyRule, IgnoreUnknownRule:
		return true
	}
	return false
}

// Note adds a note: something the user should know that is not a finding
// (an input that was skipped, an assumption the rules made). Text output
// prints notes after the findings.
func (r *Result) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// addInputs records what loading found besides objects: notes first (in
// path order, before those of Check), and the input errors, each also a
// finding of InputErrorRule so that every output format shows it. It
// returns the input errors joined, or nil.
func (r *Result) addInputs(notes []string, errs []error) error {
	if len(notes) > 0 {
		r.Notes = append(notes[:len(notes):len(notes)], r.Notes...)
	}
	if len(errs) == 0 {
		return nil
	}
	r.Errors = errs
	for _, err := range errs {
		f := Finding{Rule: InputErrorRule, Severity: "error", Message: err.Error()}
		var ie *InputError
		if errors.As(err, &ie) {
			f.File, f.Line, f.Message = ie.Path, ie.Line, ie.Message()
		}
		r.Findings = append(r.Findings, f)
	}
	sortFindings(r.Findings)
	if len(errs) == 1 {
		r.Note("1 input could not be loaded: findings that depend on its objects may be missing or wrong")
	} else {
		r.Note("%d inputs could not be loaded: findings that depend on their objects may be missing or wrong", len(errs))
	}
	return errors.Join(errs...)
}

// InputErrors counts the findings of InputErrorRule.
func (r *Result) InputErrors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Rule == InputErrorRule {
			n++
		}
	}
	return n
}

// sortFindings orders findings by file, line, column, rule and message,
// keeping the order of those equal in all of them: the one order of every
// Result.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}
