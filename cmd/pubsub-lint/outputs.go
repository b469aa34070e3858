package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/output"
)

// destination is one format of a run and where it goes: file "" is
// standard output (or --output).
type destination struct {
	format, file string
}

// destinations parses the -o/--format values (FORMAT or FORMAT=FILE) and
// --output: at most one format goes to standard output or --output, and no
// two to one file. None given is text.
func destinations(formats []string, outFile string) ([]destination, error) {
	if len(formats) == 0 {
		formats = []string{"text"}
	}
	if slices.Contains(output.Formats(), outFile) {
		return nil, fmt.Errorf("--output %s: --output is the file to write; the format is -o %s (a file of that name: --output ./%s)", outFile, outFile, outFile)
	}
	var out []destination
	files := map[string]string{}
	var plain []string
	for _, v := range formats {
		name, file, hasFile := strings.Cut(v, "=")
		if !slices.Contains(output.Formats(), name) {
			return nil, fmt.Errorf("--format %q: want one of %s, optionally =FILE", name, strings.Join(output.Formats(), ", "))
		}
		if hasFile && file == "" {
			return nil, fmt.Errorf("--format %s=: the file name is empty", name)
		}
		if !hasFile {
			plain = append(plain, name)
			file = outFile
		}
		key := "standard output"
		if file != "" {
			key = filepath.Clean(file)
		}
		if prev, ok := files[key]; ok {
			return nil, fmt.Errorf("--format %s and --format %s both go to %s: give one of them a file (-o %s=FILE)", prev, name, key, name)
		}
		files[key] = name
		out = append(out, destination{format: name, file: file})
	}
	if outFile != "" && len(plain) == 0 {
		return nil, fmt.Errorf("--output %s: every --format has its own file; give one without =FILE to write to --output", outFile)
	}
	return out, nil
}

// writeOutputs writes res in every format to its destination. Files are
// written whole or not replaced: each is rendered first.
func writeOutputs(dests []destination, stdout io.Writer, res *lint.Result) error {
	for _, d := range dests {
		var buf bytes.Buffer
		if err := output.Write(d.format, &buf, res); err != nil {
			return fmt.Errorf("writing %s output: %w", d.format, err)
		}
		if d.file == "" {
			if _, err := stdout.Write(buf.Bytes()); err != nil {
				return fmt.Errorf("writing %s output: %w", d.format, err)
			}
			continue
		}
		if err := os.WriteFile(d.file, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing %s output: %w", d.format, err)
		}
	}
	return nil
}
