package lint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// splitSetups tells the setups a run's paths hold when one PATH is a tree
// of several kustomizations, as a repository's kustomize/ directory with
// its base, components and overlays: each kustomization deployed on its
// own is a setup of its own, since linting them together cross-checks
// objects that never meet in one cluster. A Component (kind: Component)
// and a kustomization another one in the tree builds on are linted
// through those that use them. The files and charts of the tree outside
// any kustomization make one more setup. It returns nil when nothing is
// to split.
func splitSetups(paths []string) [][]string {
	if len(paths) != 1 || paths[0] == StdinPath {
		return nil
	}
	root := paths[0]
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil
	}
	if _, ok := dirKind(root); ok {
		return nil
	}
	jobs, _ := walk(root, nil, nil)
	type kustomization struct {
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Components []string `json:"components"`
		Bases      []string `json:"bases"`
	}
	var dirs, others []string
	used := map[string]bool{}
	component := map[string]bool{}
	for _, j := range jobs {
		if j.kind != jobKustomize {
			others = append(others, j.path)
			continue
		}
		dir := filepath.Clean(j.path)
		dirs = append(dirs, dir)
		var k kustomization
		for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				_ = yaml.Unmarshal(b, &k) // a broken file is reported when it is built
				break
			}
		}
		if k.Kind == "Component" {
			component[dir] = true
		}
		for _, refs := range [][]string{k.Resources, k.Components, k.Bases} {
			for _, r := range refs {
				p := filepath.Clean(filepath.Join(dir, r))
				if fi, err := os.Stat(p); err == nil && fi.IsDir() {
					used[p] = true
				}
			}
		}
	}
	if len(dirs) < 2 {
		return nil
	}
	var setups [][]string
	for _, d := range dirs {
		if !component[d] && !used[d] {
			setups = append(setups, []string{d})
		}
	}
	if len(others) > 0 {
		setups = append(setups, others)
	}
	if len(setups) < 2 {
		return nil
	}
	return setups
}

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
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
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
