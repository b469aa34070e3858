package lint

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate docs/rules.md")

// TestRulesDoc checks that docs/rules.md is generated from the current
// registry; -update regenerates it.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "rules.md")
	want := RulesMarkdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go test ./internal/lint -run TestRulesDoc -update", path)
	}
}

// TestRulesDocLinks checks that every repository path docs/rules.md names
// exists, and that every rule, input-error included, has its section (the
// anchor of RuleDocURL).
func TestRulesDocLinks(t *testing.T) {
	doc := string(RulesMarkdown())
	root := filepath.Join("..", "..")
	paths := regexp.MustCompile("`((?:pkg|cmd|internal|charts|kustomize|schemas|docs|test|tools)/[A-Za-z0-9_./-]*)`").FindAllStringSubmatch(doc, -1)
	if len(paths) == 0 {
		t.Fatal("no repository path found in the rules' documentation")
	}
	for _, m := range paths {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(m[1]))); err != nil {
			t.Errorf("docs/rules.md names %s, which does not exist: %v", m[1], err)
		}
	}
	for _, r := range Rules() {
		if !strings.Contains(doc, "\n### "+r.ID+"\n") {
			t.Errorf("no section for rule %s", r.ID)
		}
		if want := "/blob/v"; !strings.Contains(r.HelpURI, want) || !strings.HasSuffix(r.HelpURI, "/"+RulesDocPath+"#"+r.ID) {
			t.Errorf("%s: helpUri %s does not point at its section of %s at a release tag", r.ID, r.HelpURI, RulesDocPath)
		}
	}
	if _, ok := Rule(InputErrorRule); !ok {
		t.Errorf("%s is not described", InputErrorRule)
	}
}
