// Command schemagen regenerates the generated files under schemas/.
//
//	go run ./hack/schemagen -data /work/shared/data -source DIR -out schemas   # stage 1 + 2
//	go run ./hack/schemagen -from-facts -out schemas                           # stage 2 only
//	go run ./hack/schemagen -facts-only -data DIR -source DIR -out schemas     # stage 1 only
//
// Stage 1 reads DATA/dapr-components-contrib-<version>/ (metadata.yaml
// files) and the components-contrib Go module in -source (the version
// dapr/dapr <version> requires, for example the Dir that
// `go mod download -json github.com/dapr/components-contrib@v1.14.0-rc.6`
// prints; without -source, schemagen finds that version in dapr/dapr's
// go.mod and downloads it the same way), and writes
// schemas/facts/dapr-pubsub-metadata.json; stage 2
// reads that file and writes schemas/component.schema.json,
// schemas/connection-config.<driver>.schema.json and
// schemas/pubsub/*.schema.json, removing pubsub schemas that the facts no
// longer describe, and -chart's templates/_sensitive.tpl: the metadata names
// those schemas mark sensitive, which the chart refuses as plain values.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/schemagen"
)

func main() {
	data := flag.String("data", "", "directory holding dapr-components-contrib-<version>/ (stage 1)")
	version := flag.String("version", "v1.14.0", "components-contrib version to read under -data")
	source := flag.String("source", "", "the components-contrib Go module's directory, as `go mod download -json` prints it (stage 1; default: the version dapr/dapr -version requires, downloaded)")
	sourceVersion := flag.String("source-version", "", "the module version in -source (default: from the directory name, module@version)")
	modcache := flag.String("modcache", "", "GOMODCACHE, to read constants of the module's dependencies (default: go env GOMODCACHE)")
	out := flag.String("out", "schemas", "the schemas directory")
	chart := flag.String("chart", "charts/gatekeeper-pubsub", "the chart directory that gets "+schemagen.ChartSensitiveFile+" (stage 2; empty: none)")
	factsOnly := flag.Bool("facts-only", false, "only extract the facts (stage 1)")
	fromFacts := flag.Bool("from-facts", false, "only generate schemas from the committed facts (stage 2)")
	flag.Parse()
	opts := options{data: *data, version: *version, source: *source, sourceVersion: *sourceVersion, modcache: *modcache,
		out: *out, chart: *chart, factsOnly: *factsOnly, fromFacts: *fromFacts}
	if err := run(opts); err != nil {
		slog.Error("schemagen failed", "err", err)
		os.Exit(1)
	}
}

type options struct {
	data, version, source, sourceVersion, modcache, out string
	// chart is the chart directory that gets ChartSensitiveFile; empty
	// writes none.
	chart                string
	factsOnly, fromFacts bool
}

func run(o options) error {
	if o.factsOnly && o.fromFacts {
		return fmt.Errorf("-facts-only and -from-facts exclude each other")
	}
	if !o.fromFacts && o.data == "" {
		return fmt.Errorf("-data is required unless -from-facts is set")
	}
	factsPath := filepath.Join(o.out, filepath.FromSlash(schemagen.FactsFile))
	var facts *schemagen.Facts
	if o.fromFacts {
		b, err := os.ReadFile(factsPath)
		if err != nil {
			return err
		}
		if facts, err = schemagen.UnmarshalFacts(b); err != nil {
			return fmt.Errorf("%s: %w", factsPath, err)
		}
	} else {
		src, err := goSource(o)
		if err != nil {
			return err
		}
		facts, err = schemagen.Extract(filepath.Join(o.data, "dapr-components-contrib-"+o.version), o.version, src)
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
	if o.factsOnly {
		return nil
	}
	files, err := schemagen.Generate(facts)
	if err != nil {
		return err
	}
	for _, name := range schemagen.Files(facts) {
		if err := write(filepath.Join(o.out, filepath.FromSlash(name)), files[name]); err != nil {
			return err
		}
	}
	if o.chart != "" {
		tpl, err := schemagen.SensitiveTemplate(files)
		if err != nil {
			return err
		}
		if err := write(filepath.Join(o.chart, filepath.FromSlash(schemagen.ChartSensitiveFile)), tpl); err != nil {
			return err
		}
	}
	// Remove pubsub schemas whose type left the facts.
	stale, _ := filepath.Glob(filepath.Join(o.out, "pubsub", "*.schema.json"))
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

// goSource describes -source: its version from -source-version or the
// directory's name (module@version, as in the module cache), GOMODCACHE
// from -modcache or the go command.
func goSource(o options) (schemagen.GoSource, error) {
	if o.source == "" {
		dir, version, err := requiredContrib(o.version)
		if err != nil {
			return schemagen.GoSource{}, fmt.Errorf("finding the components-contrib source (or give -source): %w", err)
		}
		slog.Info("components-contrib source", "dir", dir)
		o.source, o.sourceVersion = dir, version
	}
	src := schemagen.GoSource{Dir: o.source, Version: o.sourceVersion, ModCache: o.modcache}
	if st, err := os.Stat(filepath.Join(o.source, "go.mod")); err != nil || st.IsDir() {
		return src, fmt.Errorf("-source %s: not a Go module directory (no go.mod)", o.source)
	}
	if src.Version == "" {
		_, v, ok := strings.Cut(filepath.Base(filepath.Clean(o.source)), "@")
		if !ok || v == "" {
			return src, fmt.Errorf("-source %s: the directory name has no @version; give -source-version", o.source)
		}
		src.Version = v
	}
	if src.ModCache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return src, fmt.Errorf("go env GOMODCACHE: %w (give -modcache)", err)
		}
		src.ModCache = strings.TrimSpace(string(out))
	}
	return src, nil
}

// requiredContrib downloads the components-contrib version that dapr/dapr
// at daprVersion requires, through the go command (module proxy or cache).
func requiredContrib(daprVersion string) (dir, version string, err error) {
	dapr, err := modDownload("github.com/dapr/dapr", daprVersion)
	if err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(dapr.GoMod)
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/dapr/components-contrib" {
			version = f[1]
		}
	}
	if version == "" {
		return "", "", fmt.Errorf("dapr/dapr %s does not require github.com/dapr/components-contrib", daprVersion)
	}
	contrib, err := modDownload("github.com/dapr/components-contrib", version)
	if err != nil {
		return "", "", err
	}
	return contrib.Dir, version, nil
}

func modDownload(module, version string) (gomod.Module, error) {
	return gomod.Download(context.Background(), module, version)
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
