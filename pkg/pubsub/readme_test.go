package pubsub_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExample keeps the README's Go example (section "The publisher")
// and publish in example_test.go, which the compiler checks, identical.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## The publisher (`pkg/pubsub`)")
	_, block, ok2 := strings.Cut(section, "```go\n")
	block, _, ok3 := strings.Cut(block, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```go block in the section \"The publisher (`pkg/pubsub`)\"")
	}
	_, example, ok := strings.Cut(string(src), "\t// README begin\n")
	example, _, ok2 = strings.Cut(example, "\t// README end\n")
	if !ok || !ok2 {
		t.Fatal("example_test.go has no README begin/end markers")
	}
	var want strings.Builder
	for _, line := range strings.SplitAfter(example, "\n") {
		want.WriteString(strings.TrimPrefix(line, "\t"))
	}
	if block != want.String() {
		t.Errorf("README.md's Go example differs from publish in pkg/pubsub/example_test.go; copy it over.\nREADME:\n%s\nexample_test.go:\n%s", block, want.String())
	}
}
