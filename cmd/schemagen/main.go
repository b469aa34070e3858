// Command schemagen regenerates the generated files under schemas/.
//
//	go run ./cmd/schemagen -data /work/shared/data -out schemas   # stage 1 + 2
//	go run ./cmd/schemagen -from-facts -out schemas               # stage 2 only
//	go run ./cmd/schemagen -facts-only -data DIR -out schemas     # stage 1 only
//
// Stage 1 reads DIR/dapr-components-contrib-<version>/ and writes
// schemas/facts/dapr-pubsub-metadata.json; stage 2 reads that file and writes
// schemas/component.schema.json and schemas/pubsub/*.schema.json, removing
// pubsub schemas that the facts no longer describe.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/schemagen"
)

func main() {
	data := flag.String("data", "", "directory holding dapr-components-contrib-<version>/ (stage 1)")
	version := flag.String("version", "v1.14.0", "components-contrib version to read under -data")
	out := flag.String("out", "schemas", "the schemas directory")
	factsOnly := flag.Bool("facts-only", false, "only extract the facts (stage 1)")
	fromFacts := flag.Bool("from-facts", false, "only generate schemas from the committed facts (stage 2)")
	flag.Parse()
	if err := run(*data, *version, *out, *factsOnly, *fromFacts); err != nil {
		slog.Error("schemagen failed", "err", err)
		os.Exit(1)
	}
}

func run(data, version, out string, factsOnly, fromFacts bool) error {
	if factsOnly && fromFacts {
		return fmt.Errorf("-facts-only and -from-facts exclude each other")
	}
	if !fromFacts && data == "" {
		return fmt.Errorf("-data is required unless -from-facts is set")
	}
	factsPath := filepath.Join(out, filepath.FromSlash(schemagen.FactsFile))
	var facts *schemagen.Facts
	if fromFacts {
		b, err := os.ReadFile(factsPath)
		if err != nil {
			return err
		}
		if facts, err = schemagen.UnmarshalFacts(b); err != nil {
			return fmt.Errorf("%s: %w", factsPath, err)
		}
	} else {
		var err error
		facts, err = schemagen.Extract(filepath.Join(data, "dapr-components-contrib-"+version), version)
		if err != nil {
			return err
		}
		b, err := schemagen.MarshalFacts(facts)
		if err != nil {
			return err
		}
		if err := write(factsPath, b); err != nil {
			return err
		}
	}
	if factsOnly {
		return nil
	}
	files, err := schemagen.Generate(facts)
	if err != nil {
		return err
	}
	for _, name := range schemagen.Files(facts) {
		if err := write(filepath.Join(out, filepath.FromSlash(name)), files[name]); err != nil {
			return err
		}
	}
	// Remove pubsub schemas whose type left the facts.
	stale, _ := filepath.Glob(filepath.Join(out, "pubsub", "*.schema.json"))
	for _, p := range stale {
		rel := "pubsub/" + filepath.Base(p)
		if _, ok := files[rel]; !ok && strings.HasSuffix(p, ".schema.json") {
			if err := os.Remove(p); err != nil {
				return err
			}
			slog.Info("removed", "file", p)
		}
	}
	return nil
}

func write(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	slog.Info("wrote", "file", path)
	return nil
}
