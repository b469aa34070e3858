package lint

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// merge adds another setup's result to r: counts summed, a finding, note
// or input error that two setups share (a file both build on) kept once.
func (r *Result) merge(o *Result) {
	seen := map[string]bool{}
	key := func(f Finding) string {
		return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d\x00%s", f.Rule, f.Severity, f.File, f.Line, f.Column, f.Message)
	}
	for _, f := range r.Findings {
		seen[key(f)] = true
	}
	for _, f := range o.Findings {
		if k := key(f); !seen[k] {
			seen[k] = true
			r.Findings = append(r.Findings, f)
		}
	}
	notes := map[string]bool{}
	for _, n := range r.Notes {
		notes[n] = true
	}
	for _, n := range o.Notes {
		if !notes[n] {
			notes[n] = true
			r.Notes = append(r.Notes, n)
		}
	}
	errs := map[string]bool{}
	for _, e := range r.Errors {
		errs[e.Error()] = true
	}
	for _, e := range o.Errors {
		if !errs[e.Error()] {
			errs[e.Error()] = true
			r.Errors = append(r.Errors, e)
		}
	}
	r.Suppressed = append(r.Suppressed, o.Suppressed...)
	r.setupObjects += o.setupObjects
	r.Files += o.Files
	r.Objects += o.Objects
	sortFindings(r.Findings)
}

// inputsAcrossSetups orders the input errors of all setups by path, as
// one run gives them, and says their count once.
func (r *Result) inputsAcrossSetups() {
	path := func(err error) string {
		var ie *InputError
		if errors.As(err, &ie) {
			return ie.Path
		}
		return err.Error()
	}
	sort.SliceStable(r.Errors, func(i, j int) bool { return path(r.Errors[i]) < path(r.Errors[j]) })
	notes := r.Notes[:0]
	for _, n := range r.Notes {
		if !strings.Contains(n, " could not be loaded: findings that depend on ") {
			notes = append(notes, n)
		}
	}
	r.Notes = notes
	switch n := len(r.Errors); {
	case n == 1:
		r.Note("1 input could not be loaded: findings that depend on its objects may be missing or wrong")
	case n > 1:
		r.Note("%d inputs could not be loaded: findings that depend on their objects may be missing or wrong", n)
	}
}
