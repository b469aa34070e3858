package input

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/strvals"
)

// valueSource is one -f file or one --set, --set-string or --set-file
// expression.
type valueSource struct {
	// flag is "--values", "--set", ...; arg the file or the expression.
	flag, arg string
	// file and doc: a values file and its YAML (nil when it cannot be
	// read: the flag is named without a line).
	file string
	doc  *yaml.Node
	// vals is what an expression sets.
	vals map[string]any
}

// valueSources lists the sources of a chart's values in Helm's order of
// precedence (values.Options.MergeValues: files, then --set, --set-string,
// --set-file; a later one wins).
func valueSources(opts Options) []*valueSource {
	var out []*valueSource
	for _, f := range opts.ValueFiles {
		s := fileSource("", f, opts.maxInput())
		if s == nil {
			s = &valueSource{flag: "--values", arg: f}
		}
		out = append(out, s)
	}
	noRead := func([]rune) (any, error) { return "", nil }
	for _, set := range []struct {
		flag  string
		exprs []string
		parse func(string) (map[string]any, error)
	}{
		{"--set", opts.Set, strvals.Parse},
		{"--set-string", opts.SetString, strvals.ParseString},
		{"--set-file", opts.SetFile, func(s string) (map[string]any, error) { return strvals.ParseFile(s, noRead) }},
	} {
		for _, e := range set.exprs {
			// Each key=value of a comma-separated list is named alone,
			// unless a part does not parse alone (a list {a,b}).
			var parts []*valueSource
			for _, p := range splitUnescaped(e, ',') {
				v, err := set.parse(p)
				if err != nil {
					parts = nil
					break
				}
				parts = append(parts, &valueSource{flag: set.flag, arg: p, vals: v})
			}
			if parts == nil {
				v, err := set.parse(e)
				if err != nil {
					continue
				}
				parts = []*valueSource{{flag: set.flag, arg: e, vals: v}}
			}
			out = append(out, parts...)
		}
	}
	return out
}

// fileSource reads a values file for the lines of its keys; nil when it
// cannot be read or parsed (Helm reports that). flag "" is --values; any
// other text describes the file (the chart's default).
func fileSource(flag, path string, limit int64) *valueSource {
	if path == "-" || strings.Contains(path, "://") {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	if flag == "" {
		flag = "--values"
	}
	return &valueSource{flag: flag, arg: path, file: path, doc: &doc}
}

// at places a finding on the source: the file's line, or the flag named in
// the message.
func (s *valueSource) at(line, col int, what string) (file string, l, c int, msg string) {
	if s.doc != nil {
		if s.flag == "--values" {
			return s.file, line, col, what
		}
		return s.file, line, col, what + " (" + s.flag + ")"
	}
	return "", 0, 0, fmt.Sprintf("%s %s: %s", s.flag, s.arg, what)
}

// sets says whether the source sets the value at path, a value above it
// (which replaces it whole) or one below it; with the line and column of
// the key in a file.
func (s *valueSource) sets(path []string) (ok bool, line, col int) {
	if s.doc != nil {
		n := s.doc
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		line, col = 0, 0
		for i, k := range path {
			var next, key *yaml.Node
			switch n.Kind {
			case yaml.MappingNode:
				for j := 0; j+1 < len(n.Content); j += 2 {
					if n.Content[j].Value == k {
						key, next = n.Content[j], n.Content[j+1]
					}
				}
			case yaml.SequenceNode:
				if idx, err := strconv.Atoi(k); err == nil && idx >= 0 && idx < len(n.Content) {
					key, next = n.Content[idx], n.Content[idx]
				}
			default:
				// A scalar above the path replaces what is below.
				return i > 0, line, col
			}
			if key == nil {
				return false, 0, 0
			}
			line, col = key.Line, key.Column
			n = next
		}
		return true, line, col
	}
	var v any = s.vals
	for i, k := range path {
		switch m := v.(type) {
		case map[string]any:
			next, ok := m[k]
			if !ok {
				return false, 0, 0
			}
			v = next
		case []any:
			idx, err := strconv.Atoi(k)
			if err != nil || idx < 0 || idx >= len(m) {
				return false, 0, 0
			}
			v = m[idx]
		default:
			return i > 0, 0, 0
		}
	}
	return s.vals != nil, 0, 0
}

// lastSetting is the source with the last word on the value at path (the
// last that sets it, one above it or one below it), or nil.
func lastSetting(path []string, srcs []*valueSource) (*valueSource, int, int) {
	for i := len(srcs) - 1; i >= 0; i-- {
		if ok, line, col := srcs[i].sets(path); ok {
			return srcs[i], line, col
		}
	}
	return nil, 0, 0
}

// locateValue places a finding about the value at path on its source
// (lastSetting), else on the chart's values.yaml (defaults, may be nil).
func locateValue(path []string, srcs []*valueSource, defaults *valueSource, what string) (string, int, int, string) {
	if len(path) == 0 {
		return "", 0, 0, what
	}
	if src, line, col := lastSetting(path, srcs); src != nil {
		return src.at(line, col, what)
	}
	// The chart's default, or the nearest key above it in values.yaml.
	for p := path; defaults != nil && len(p) > 0; p = p[:len(p)-1] {
		if ok, line, col := defaults.sets(p); ok {
			return defaults.at(line, col, what)
		}
	}
	return "", 0, 0, what
}

// pathWordRE finds what a fail message may name a value by:
// "audit.exportBackend", "component.metadata[0]", "gatekeeperVersion".
var pathWordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])*`)

// mentionedPaths are the value paths a message may name, in its order.
func mentionedPaths(text string) [][]string {
	var out [][]string
	seen := map[string]bool{}
	for _, w := range pathWordRE.FindAllString(text, -1) {
		if seen[w] {
			continue
		}
		seen[w] = true
		w = strings.NewReplacer("[", ".", "]", "").Replace(w)
		out = append(out, strings.Split(w, "."))
	}
	return out
}

// valuePath writes a path as --set does: a.b[0].c; a key with a dot is
// escaped (a\.b).
func valuePath(path []string) string {
	var b strings.Builder
	for _, k := range path {
		if _, err := strconv.Atoi(k); err == nil {
			b.WriteString("[" + k + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.ReplaceAll(k, ".", `\.`))
	}
	return b.String()
}
