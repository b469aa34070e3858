package input

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

// A chart whose values its values.schema.json or a template's fail (or
// required) check rejects does not render: Helm says so in one error. The
// functions here turn that error into findings of ChartValuesRule on the
// values themselves, at the line of the -f file that set each one, or
// naming the --set flag that did, or at the line of the chart's own
// values.yaml when its default fails.

// ChartValuesRule is the rule ID of the findings on a chart's values that
// its values.schema.json or a template's fail or required check rejects:
// the findings are on the values (the -f file and line, or the --set flag)
// and the chart is not rendered. It is one of the engine's rules (package
// lint), not of internal/lint/rules.
const ChartValuesRule = "chart-values-invalid"

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
func chartValueFindings(dir string, opts Options, renderErr error) (found []rules.Finding, ok bool) {
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
			f := rules.Finding{Rule: ChartValuesRule, Severity: rules.Error}
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
		f := rules.Finding{Rule: ChartValuesRule, Severity: rules.Error, Message: what, File: tmplFile, Line: tmplLine}
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
		return []rules.Finding{f}, true
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
		if err := validator.Validate(vals); err != nil {
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
