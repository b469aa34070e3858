package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/schemagen"
)

func TestRunOptions(t *testing.T) {
	noMod := t.TempDir()
	versioned := filepath.Join(t.TempDir(), "components-contrib@v1.2.3")
	if err := os.MkdirAll(versioned, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(versioned, "go.mod"), []byte("module github.com/dapr/components-contrib\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unversioned := t.TempDir()
	if err := os.WriteFile(filepath.Join(unversioned, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		o       options
		wantErr string
	}{
		{"both stages excluded", options{factsOnly: true, fromFacts: true}, "exclude each other"},
		{"stage 1 without data", options{source: versioned}, "-data is required"},
		{"source without go.mod", options{data: "d", source: noMod, modcache: "m"}, "not a Go module directory"},
		{"source without a version", options{data: "d", source: unversioned, modcache: "m"}, "give -source-version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	src, err := goSource(options{source: versioned, modcache: "m"})
	if err != nil || src.Version != "v1.2.3" || src.ModCache != "m" {
		t.Errorf("goSource = %+v, %v", src, err)
	}
}

// TestFromFacts: stage 2 writes exactly the committed schemas and the
// chart's generated list of sensitive metadata names.
func TestFromFacts(t *testing.T) {
	out, chart := t.TempDir(), t.TempDir()
	facts, err := os.ReadFile(filepath.Join("..", "..", "schemas", filepath.FromSlash(schemagen.FactsFile)))
	if err != nil {
		t.Fatal(err)
	}
	if err := write(filepath.Join(out, filepath.FromSlash(schemagen.FactsFile)), facts); err != nil {
		t.Fatal(err)
	}
	if err := run(options{out: out, chart: chart, fromFacts: true}); err != nil {
		t.Fatal(err)
	}
	f, err := schemagen.UnmarshalFacts(facts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range schemagen.Files(f) {
		got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "schemas", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the committed schema", name)
		}
	}
	rel := filepath.FromSlash(schemagen.ChartSensitiveFile)
	got, err := os.ReadFile(filepath.Join(chart, rel))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "charts", "gatekeeper-pubsub", rel))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("charts/gatekeeper-pubsub/%s differs from what schemagen writes; run `make schemas`", schemagen.ChartSensitiveFile)
	}
}
