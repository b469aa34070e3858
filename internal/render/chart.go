package render

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// DefaultReleaseName is the release name `helm template` uses when none is given.
const DefaultReleaseName = "release-name"

// DefaultKubeVersion is the Kubernetes version charts are rendered for when
// ChartOptions.KubeVersion is empty: the one a `helm` binary built with this
// module's Kubernetes libraries (k8s.io/* v0.37) reports, as Helm's Makefile
// derives it (v0.X gives v1.X.0). Helm's library default without those build
// flags, v1.20.0, is too old for charts that declare a kubeVersion. A test
// keeps it in step with go.mod.
const DefaultKubeVersion = "v1.37.0"

// ChartOptions are the inputs of a chart render, named as Helm's flags.
type ChartOptions struct {
	// ReleaseName defaults to "release-name", as in `helm template`.
	ReleaseName string
	// Namespace defaults to "default".
	Namespace string
	// ValueFiles are -f/--values files, merged in order.
	ValueFiles []string
	// Set and SetString are --set and --set-string expressions.
	Set, SetString []string
	// SetFile are --set-file expressions (key=path: the file's content is
	// the value).
	SetFile []string
	// KubeVersion is --kube-version (for .Capabilities.KubeVersion);
	// empty means DefaultKubeVersion.
	KubeVersion string
	// IncludeTests keeps `helm test` hooks (templates/tests/*) in the output.
	IncludeTests bool
}

// Chart renders the chart in dir in-process, as `helm template` does:
// values merged like -f/--set/--set-string, validated against the chart's
// values.schema.json by Helm's own code, rendered by Helm's engine, sorted
// in Helm's install order (non-hook manifests first, then hooks). NOTES.txt
// and CRDs are left out, and so are test hooks unless opts.IncludeTests.
// Every object's Source is the template path of its "# Source:" comment.
func Chart(ctx context.Context, dir string, opts ChartOptions) ([]Object, error) {
	rendered, err := RenderChart(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	return rendered.Objects, nil
}

// Rendered is the whole result of a chart render.
type Rendered struct {
	// Objects in install order.
	Objects []Object
	// Notes is the rendered NOTES.txt of the top chart.
	Notes string
	// Manifest is the output `helm template` prints for the same objects.
	Manifest string
	// UnknownValues are keys given with -f or --set that the chart's
	// values.yaml does not have (charts without a values.schema.json).
	UnknownValues []UnknownValue
}

// RenderChart is Chart that also returns the NOTES and the manifest text.
func RenderChart(ctx context.Context, dir string, opts ChartOptions) (*Rendered, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.ReleaseName == "" {
		opts.ReleaseName = DefaultReleaseName
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if err := checkSymlinks(dir); err != nil {
		return nil, err
	}
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	if t := chrt.Metadata.Type; t != "" && t != "application" {
		return nil, fmt.Errorf("chart %s: %s charts are not installable", dir, t)
	}
	vo := values.Options{ValueFiles: opts.ValueFiles, Values: opts.Set, StringValues: opts.SetString, FileValues: opts.SetFile}
	vals, err := vo.MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, vals); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w", dir, err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	kubeVersion := opts.KubeVersion
	if kubeVersion == "" {
		kubeVersion = DefaultKubeVersion
	}
	if kubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("chart %s: kube version %q: %w", dir, kubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	if kv := chrt.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires kubeVersion: %s which is incompatible with Kubernetes %s", dir, kv, caps.KubeVersion.String())
	}
	relOpts := chartutil.ReleaseOptions{Name: opts.ReleaseName, Namespace: opts.Namespace, Revision: 1, IsInstall: true}
	renderVals, err := chartutil.ToRenderValues(chrt, vals, relOpts, caps)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files, err := new(engine.Engine).Render(chrt, renderVals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", dir, err)
	}
	notes := takeNotes(chrt, files)
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", dir, err)
	}
	lines := docLines(files)
	sources := templateSources(chrt)
	lineMaps := map[string][]int{}
	var out []Object
	var text strings.Builder
	add := func(name, content string) error {
		fmt.Fprintf(&text, "---\n# Source: %s\n%s\n", name, content)
		objs, err := SplitYAML(name, []byte(content))
		if err != nil {
			return fmt.Errorf("rendering chart %s: %w", dir, err)
		}
		line := lines.take(name, content)
		lm, ok := lineMaps[name]
		if src, has := sources[name]; has && !ok {
			lm = templateLineMap(src, files[name])
			lineMaps[name] = lm
		}
		file := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(name, chrt.Name()+"/")))
		for i := range objs {
			if line > 0 {
				objs[i].Line = line + objs[i].Line - 1
			} else {
				objs[i].Line = 0
			}
			objs[i].Template = &TemplateSource{File: file, Lines: lm}
		}
		out = append(out, objs...)
		return nil
	}
	for _, m := range manifests {
		if err := add(m.Name, m.Content); err != nil {
			return nil, err
		}
	}
	for _, h := range hooks {
		if !opts.IncludeTests && isTestHook(h) {
			continue
		}
		if err := add(h.Path, h.Manifest); err != nil {
			return nil, err
		}
	}
	return &Rendered{Objects: out, Notes: notes, Manifest: text.String(), UnknownValues: UnknownValues(chrt, vals)}, nil
}

// takeNotes removes every NOTES.txt from files and returns the top chart's.
func takeNotes(chrt *chart.Chart, files map[string]string) string {
	var notes string
	for k, v := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			if k == path.Join(chrt.Name(), "templates", "NOTES.txt") {
				notes = v
			}
			delete(files, k)
		}
	}
	return notes
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// lineIndex maps a template path and a document's text (as split by Helm)
// to the 1-based lines where such documents start in the rendered template,
// in file order.
type lineIndex map[string]map[string][]int

func (li lineIndex) take(name, content string) int {
	q := li[name][content]
	if len(q) == 0 {
		return 0
	}
	li[name][content] = q[1:]
	return q[0]
}

// docLines finds, for each rendered file, where each of the documents that
// releaseutil.SplitManifests yields starts.
func docLines(files map[string]string) lineIndex {
	li := lineIndex{}
	for name, text := range files {
		split := releaseutil.SplitManifests(text)
		keys := make([]string, 0, len(split))
		for k := range split {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		m := map[string][]int{}
		cursor := 0
		for _, k := range keys {
			d := split[k]
			i := strings.Index(text[cursor:], d)
			if i < 0 {
				continue
			}
			m[d] = append(m[d], 1+strings.Count(text[:cursor+i], "\n"))
			cursor += i + len(d)
		}
		li[name] = m
	}
	return li
}
