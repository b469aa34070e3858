package violation_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRoundTrip decodes each golden message and encodes it back: the bytes
// must not change, so no field is lost, renamed or reordered.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"docs-example.json", "full.json"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			var v violation.Violation
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("decoding %s: %v", name, err)
			}
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if !bytes.Equal(got, want) {
				t.Errorf("round trip of %s changed it:\n got: %s\nwant: %s", name, got, want)
			}
			var doc any
			if err := json.Unmarshal(got, &doc); err != nil {
				t.Fatal(err)
			}
			problems, err := schemas.Validate(schemas.Violation, doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) > 0 {
				t.Errorf("%s fails the violation schema: %v", name, problems)
			}
		})
	}
}

// TestExampleMatchesSeed checks that Example is the documentation's message.
func TestExampleMatchesSeed(t *testing.T) {
	at := time.Date(2023, 7, 18, 21, 21, 52, 0, time.UTC)
	got, err := json.MarshalIndent(violation.Example(at), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "docs-example.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Example differs from %s:\n got: %s\nwant: %s", path, got, want)
	}
}
