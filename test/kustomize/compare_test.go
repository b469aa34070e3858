package kustomize_test

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// Helm's own labels: the chart sets them only as Helm bookkeeping, so they
// are removed from the chart's objects before comparing, and kustomize must
// not set them. Every other label is compared, including
// app.kubernetes.io/instance (the release name, gatekeeper-pubsub: it is in
// the audit's immutable selector, so both install methods must agree) and
// app.kubernetes.io/version (the Gatekeeper version the manifests are for).
var helmLabels = map[string]string{
	"helm.sh/chart":                "", // any value
	"app.kubernetes.io/managed-by": "Helm",
}

// helmAnnotationPrefix marks Helm's own annotations (hooks, resource policy).
// Objects carrying a helm.sh/hook annotation exist only for Helm (the
// `helm test` pod) and are not rendered (ChartOptions.IncludeTests false);
// other helm.sh/ annotations are removed before comparing.
const helmAnnotationPrefix = "helm.sh/"

// stripHelm returns a deep copy of a chart object without Helm's own
// labels and annotations on metadata.
func stripHelm(obj map[string]any) map[string]any {
	out := deepCopy(obj).(map[string]any)
	md, _ := out["metadata"].(map[string]any)
	if md == nil {
		return out
	}
	if labels, ok := md["labels"].(map[string]any); ok {
		for k, want := range helmLabels {
			if v, ok := labels[k]; ok && (want == "" || v == want) {
				delete(labels, k)
			}
		}
		if len(labels) == 0 {
			delete(md, "labels")
		}
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		for k := range ann {
			if strings.HasPrefix(k, helmAnnotationPrefix) {
				delete(ann, k)
			}
		}
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// objectKey identifies an object as "apiVersion Kind namespace/name".
func objectKey(o map[string]any) string {
	ro := render.Object{Obj: o}
	return ro.APIVersion() + " " + ro.String()
}

// compareObjects compares the chart's objects (want) with kustomize's (got)
// after removing Helm's own labels and annotations from the chart's. It
// returns one line per difference, naming the object and the field path,
// sorted; nil means equal.
func compareObjects(chart, kust []render.Object) []string {
	want := map[string]map[string]any{}
	for _, o := range chart {
		want[objectKey(o.Obj)] = stripHelm(o.Obj)
	}
	got := map[string]map[string]any{}
	for _, o := range kust {
		got[objectKey(o.Obj)] = o.Obj
	}
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only in the chart", k))
			continue
		}
		for _, d := range diffValues("", w, g) {
			diffs = append(diffs, k+": "+d)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only in kustomize", k))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// diffValues lists the differences between w (chart) and g (kustomize)
// below path, as "path: chart X, kustomize Y".
func diffValues(path string, w, g any) []string {
	switch wt := w.(type) {
	case map[string]any:
		gt, ok := g.(map[string]any)
		if !ok {
			return []string{mismatch(path, w, g)}
		}
		keys := map[string]bool{}
		for k := range wt {
			keys[k] = true
		}
		for k := range gt {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []string
		for _, k := range sorted {
			p := joinKey(path, k)
			wv, wok := wt[k]
			gv, gok := gt[k]
			switch {
			case !gok:
				out = append(out, fmt.Sprintf("%s: chart %s, kustomize missing", p, show(wv)))
			case !wok:
				out = append(out, fmt.Sprintf("%s: chart missing, kustomize %s", p, show(gv)))
			default:
				out = append(out, diffValues(p, wv, gv)...)
			}
		}
		return out
	case []any:
		gt, ok := g.([]any)
		if !ok {
			return []string{mismatch(path, w, g)}
		}
		var out []string
		for i := 0; i < len(wt) || i < len(gt); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(gt):
				out = append(out, fmt.Sprintf("%s: chart %s, kustomize missing", p, show(wt[i])))
			case i >= len(wt):
				out = append(out, fmt.Sprintf("%s: chart missing, kustomize %s", p, show(gt[i])))
			default:
				out = append(out, diffValues(p, wt[i], gt[i])...)
			}
		}
		return out
	default:
		if !reflect.DeepEqual(w, g) {
			return []string{mismatch(path, w, g)}
		}
		return nil
	}
}

// joinKey appends a map key to a field path; keys that are not plain
// identifiers (labels, annotations) are bracketed: metadata.labels["a/b"].
func joinKey(path, k string) string {
	if strings.ContainsAny(k, "./ ") {
		return fmt.Sprintf("%s[%q]", path, k)
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

func mismatch(path string, w, g any) string {
	return fmt.Sprintf("%s: chart %s, kustomize %s", path, show(w), show(g))
}

func show(v any) string {
	switch v.(type) {
	case map[string]any, []any:
		s := fmt.Sprintf("%v", v)
		if len(s) > 80 {
			s = s[:77] + "..."
		}
		return s
	default:
		return fmt.Sprintf("%#v", v)
	}
}
