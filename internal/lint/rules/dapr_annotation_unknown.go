package rules

import (
	"slices"
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "dapr-annotation-unknown",
		Severity: Warning,
		Category: CatAudit,
		Summary:  "A dapr.io/ annotation that Dapr's sidecar injector does not read: a key it does not know, or one on the workload instead of its pod template.",
		Doc: "Dapr's sidecar injector reads a fixed set of `dapr.io/` annotations from the pod (those of Dapr " +
			schemas.DaprRelease + ", its injector's annotations package) and ignores every other key without a word: " +
			"`dapr.io/app-prt` leaves the app port unset, `dapr.io/enable` injects no sidecar at all. It reads " +
			"only the pod's annotations: on a Deployment, StatefulSet or DaemonSet they belong in " +
			"`spec.template.metadata.annotations`; in the workload's own `metadata.annotations` they do nothing.\n\n" +
			"Checked on the audit, Dapr's injector, the subscribers and the violations consumer.",
		Remediation: "Spell the key as Dapr does (`pubsub-lint` suggests the nearest) and put it under " +
			"`spec.template.metadata.annotations` (Gatekeeper chart: `auditPodAnnotations`).",
		Check: checkDaprAnnotationUnknown,
	})
}

func checkDaprAnnotationUnknown(s *model.Setup, r *Reporter) {
	known := schemas.DaprAnnotations()
	for _, w := range s.Workloads {
		for _, k := range sortedKeys(w.Annotations) {
			if !strings.HasPrefix(strings.ToLower(k), "dapr.io/") || slices.Contains(known, k) {
				continue
			}
			r.Report(w.Obj, w.AnnotationPath(k), "pod template annotation %q is no annotation Dapr's sidecar injector %s reads%s, so it is ignored",
				k, Prose(schemas.DaprRelease), didYouMean(k, closest(k, known)))
		}
		if len(w.Template) == 0 {
			continue // a Pod: its metadata is the pod's.
		}
		own := w.Obj.Annotations()
		for _, k := range sortedKeys(own) {
			if !strings.HasPrefix(strings.ToLower(k), "dapr.io/") {
				continue
			}
			if _, ok := w.Annotations[k]; ok {
				continue
			}
			r.Report(w.Obj, model.P("metadata", "annotations", k), "annotation %s: %q is on the %s itself, not on its pod template (spec.template.metadata.annotations), so Dapr's sidecar injector never sees it",
				k, own[k], w.Obj.Kind())
		}
	}
}

// closest keeps, of the candidates nearest to s, those at the least edit
// distance: "dapr.io/app-prt" gets "dapr.io/app-port", not also app-id.
func closest(s string, candidates []string) []string {
	n := nearest(s, candidates)
	if len(n) == 0 {
		return nil
	}
	best := editdist.Levenshtein(strings.ToLower(s), strings.ToLower(n[0]))
	out := n[:1]
	for _, c := range n[1:] {
		if editdist.Levenshtein(strings.ToLower(s), strings.ToLower(c)) == best {
			out = append(out, c)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
