package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/strvals"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/rules"
)

// A chart whose values its values.schema.json or a template's fail (or
// required) check rejects does not render: Helm says so in one error. The
// functions here turn that error into findings of ChartValuesRule on the
// values themselves, at the line of the -f file that set each one, or
// naming the --set flag that did, or at the line of the chart's own
// values.yaml when its default fails.

// schemaErrorText is what Helm's chartutil.ToRenderValues says of values
// that fail a schema.
const schemaErrorText = "values don't meet the specifications of the schema(s)"

// failRE is how Helm's engine reports a template's fail or required:
// "execution error at (CHART/templates/FILE:LINE:COL): MESSAGE".
var failRE = regexp.MustCompile(`execution error at \(([^)]*)\): ((?s).*)`)

// valueProblem is one value a chart rejects: its path in the values (as
// --set writes it, split) and what is wrong.
type valueProblem struct {
	path    []string
	message string
	// extra: the schema does not allow the key (additionalProperties).
	extra bool
}

// chartValueFindings turns renderErr, the error of rendering the chart in
// dir, into findings on the values when the values are what the chart
// rejects; ok is false for any other error (an input error).
func chartValueFindings(dir string, opts Options, renderErr error) (found []Finding, ok bool) {
	msg := renderErr.Error()
	srcs := valueSources(opts)
	chartValues := filepath.Join(dir, "values.yaml")
	defaults := fileSource("the chart's default", chartValues, opts.maxInput())
	switch {
	case strings.Contains(msg, schemaErrorText):
		problems, err := schemaProblems(dir, opts)
		if err != nil || len(problems) == 0 {
			return nil, false
		}
		for _, p := range problems {
			f := Finding{Rule: ChartValuesRule, Severity: rules.Error}
			what := fmt.Sprintf("value %s: %s (%s of chart %s)", valuePath(p.path), p.message, "values.schema.json", dir)
			if len(p.path) == 0 {
				what = fmt.Sprintf("values: %s (%s of chart %s)", p.message, "values.schema.json", dir)
			}
			f.File, f.Line, f.Column, f.Message = locateValue(p.path, srcs, defaults, what)
			if f.File == "" && f.Message == what {
				f.File = dir
			}
			found = append(found, f)
		}
		return found, true
	case failRE.MatchString(msg):
		m := failRE.FindStringSubmatch(msg)
		where, text := m[1], strings.TrimSpace(m[2])
		tmplFile, tmplLine := templateLocation(dir, where)
		what := fmt.Sprintf("chart %s refuses the values (the check at %s:%d): %s", dir, filepath.ToSlash(tmplFile), tmplLine, text)
		f := Finding{Rule: ChartValuesRule, Severity: rules.Error, Message: what, File: tmplFile, Line: tmplLine}
		// The value the check is about is the first one its message names
		// that a -f file or a flag sets, else that the chart's values.yaml
		// has; else the finding stays on the template's line.
		paths := mentionedPaths(text)
		located := false
		for _, p := range paths {
			if src, line, col := lastSetting(p, srcs); src != nil {
				f.File, f.Line, f.Column, f.Message = src.at(line, col, what)
				located = true
				break
			}
		}
		if !located && defaults != nil {
			for _, p := range paths {
				if ok, line, col := defaults.sets(p); ok {
					f.File, f.Line, f.Column, f.Message = defaults.at(line, col, what)
					break
				}
			}
		}
		return []Finding{f}, true
	}
	return nil, false
}

// templateLocation turns Helm's "CHART/templates/FILE:LINE:COL" into the
// template's path under dir and its line.
func templateLocation(dir, where string) (string, int) {
	parts := strings.Split(where, ":")
	name := parts[0]
	line := 0
	if len(parts) > 1 {
		line, _ = strconv.Atoi(parts[1])
	}
	if _, rest, ok := strings.Cut(name, "/"); ok {
		name = rest
	}
	return filepath.Join(dir, filepath.FromSlash(name)), line
}

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

// schemaProblems validates the chart's values as Helm does (the values
// merged from the flags, coalesced with the charts' defaults, each chart's
// and subchart's values.schema.json) and returns each problem with its
// value path. Schemas are read from the chart only: a $ref to another
// file or a URL makes it fail (the input error Helm gave stands).
func schemaProblems(dir string, opts Options) ([]valueProblem, error) {
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	vo := values.Options{ValueFiles: opts.ValueFiles, Values: opts.Set, StringValues: opts.SetString, FileValues: opts.SetFile}
	vals, err := vo.MergeValues(getter.Providers{})
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, vals); err != nil {
		return nil, err
	}
	coalesced, err := chartutil.CoalesceValues(chrt, vals)
	if err != nil {
		return nil, err
	}
	var out []valueProblem
	if err := validateValues(chrt, coalesced, nil, &out); err != nil {
		return nil, err
	}
	// A key the schema does not allow: the closest key beside it (the
	// chart's defaults are there, coalesced).
	for i, p := range out {
		if !p.extra {
			continue
		}
		var v any = map[string]any(coalesced)
		for _, k := range p.path[:len(p.path)-1] {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[k]
		}
		if m, ok := v.(map[string]any); ok {
			if near := closestKey(p.path[len(p.path)-1], m); near != "" {
				out[i].message += fmt.Sprintf(" (did you mean %q?)", near)
			}
		}
	}
	return out, nil
}

// closestKey is the key of m other than k closest to it: equal but for
// letter case, or within two edits (one for keys of four letters or less).
func closestKey(k string, m map[string]any) string {
	limit := 2
	if len(k) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	for c := range m {
		if c == k {
			continue
		}
		d := editdist.Levenshtein(strings.ToLower(k), strings.ToLower(c))
		if strings.EqualFold(c, k) {
			d = 0
		}
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	return best
}

var printer = message.NewPrinter(language.English)

func validateValues(c *chart.Chart, vals map[string]any, prefix []string, out *[]valueProblem) error {
	if c.Schema != nil {
		schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.Schema))
		if err != nil {
			return err
		}
		compiler := jsonschema.NewCompiler()
		compiler.UseLoader(jsonschema.SchemeURLLoader{})
		if err := compiler.AddResource("file:///values.schema.json", schema); err != nil {
			return err
		}
		validator, err := compiler.Compile("file:///values.schema.json")
		if err != nil {
			return err
		}
		if err := validator.Validate(map[string]any(vals)); err != nil {
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) {
				return err
			}
			var leaves []valueProblem
			collectLeaves(ve, prefix, &leaves)
			*out = append(*out, leaves...)
		}
	}
	for _, sub := range c.Dependencies() {
		raw, ok := vals[sub.Name()].(map[string]any)
		if !ok {
			continue
		}
		if err := validateValues(sub, raw, append(append([]string(nil), prefix...), sub.Name()), out); err != nil {
			return err
		}
	}
	return nil
}

// collectLeaves lists the innermost errors (those without causes), each
// once, by path.
func collectLeaves(e *jsonschema.ValidationError, prefix []string, out *[]valueProblem) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collectLeaves(c, prefix, out)
		}
		sort.SliceStable(*out, func(i, j int) bool {
			return strings.Join((*out)[i].path, "\x00") < strings.Join((*out)[j].path, "\x00")
		})
		return
	}
	p := valueProblem{path: append(append([]string(nil), prefix...), e.InstanceLocation...), message: e.ErrorKind.LocalizedString(printer)}
	// A key the schema does not allow is where it is set.
	if k, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(k.Properties) == 1 {
		p.path = append(p.path, k.Properties[0])
		p.extra = true
	}
	for _, q := range *out {
		if strings.Join(q.path, "\x00") == strings.Join(p.path, "\x00") && q.message == p.message {
			return
		}
	}
	*out = append(*out, p)
}
