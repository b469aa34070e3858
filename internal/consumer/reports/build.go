// Package reports turns the consumer's open violations into OpenReports
// (openreports.io/v1alpha1): a Report per namespace for namespaced
// resources and a ClusterReport for cluster-scoped ones, split past a
// number of results, which Policy Reporter (v3.2+) and kubectl read. Sync
// writes them to the API server only where they changed.
//
// The mapping (README, "Keeping violations"):
//   - policy is the constraint (Kind/name): what a team enables and tunes;
//   - rule is the constraint's kind, the ConstraintTemplate that holds the
//     logic (its name is the kind in lower case);
//   - category is "Gatekeeper" with the template, so Policy Reporter groups
//     by template;
//   - result: deny fail, warn warn, dryrun warn (the violation is real, the
//     cluster does not act on it), anything else (scoped actions) fail;
//   - severity: the constraint's label (else annotation)
//     Options.SeverityKey when it is one of Severities, else
//     Options.Severity (default medium);
//   - subjects: the resource, with its UID when Options.ResourceUIDs and
//     the consumer may read it;
//   - timestamp: first seen, so Policy Reporter does not alert again after
//     a restart; properties.resultID: the violation's key, stable across
//     runs and message-independent enough to not notify again.
package reports

import (
	"fmt"
	"sort"
	"strings"

	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Source is the reports' and results' source.
const Source = "gatekeeper"

// Labels on every report written, to find them again.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "gatekeeper-violations"
	LabelCluster   = "violations.gatekeeper-pubsub.io/cluster"
)

// Options shape the reports.
type Options struct {
	// Cluster the violations are of (a label on the reports).
	Cluster string
	// MaxResults per report (default 500: results are about 1 KB, so a
	// report stays near half a megabyte, well under etcd's 1.5 MB).
	MaxResults int
	// Severity of a result whose constraint has no valid severity under
	// SeverityKey (default medium).
	Severity string
	// SeverityKey is the constraint label (else annotation) a result's
	// severity is read from (DefaultSeverityKey in `violations serve`);
	// empty reads none.
	SeverityKey string
	// ResourceUIDs looks up each violating resource's metadata.uid for its
	// result's subject.
	ResourceUIDs bool
}

func (o Options) withDefaults() Options {
	if o.MaxResults <= 0 {
		o.MaxResults = 500
	}
	if o.Severity == "" {
		o.Severity = "medium"
	}
	return o
}

// Object is one report to write: a Report (Namespace set) or a
// ClusterReport.
type Object struct {
	Namespace string
	Name      string
	Report    openreports.Report
}

// Kind is Report or ClusterReport.
func (o Object) Kind() string {
	if o.Namespace == "" {
		return "ClusterReport"
	}
	return "Report"
}

// Build makes the reports for the open violations: per namespace ("" for
// cluster-scoped resources), sorted by resource then constraint, cut into
// reports of at most MaxResults named gatekeeper, gatekeeper-2, ...
// facts gives the constraints' severities and the resources' UIDs read at
// this sync (the zero Facts: Options.Severity, no UIDs).
func Build(vs []store.Violation, opts Options, facts Facts) []Object {
	opts = opts.withDefaults()
	byNS := map[string][]store.Violation{}
	for _, v := range vs {
		if v.State != store.StateOpen {
			continue
		}
		byNS[v.Resource.Namespace] = append(byNS[v.Resource.Namespace], v)
	}
	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	var out []Object
	for _, ns := range namespaces {
		list := byNS[ns]
		sort.Slice(list, func(i, j int) bool { return sortKey(list[i]) < sortKey(list[j]) })
		for part := 0; part*opts.MaxResults < len(list); part++ {
			chunk := list[part*opts.MaxResults : min((part+1)*opts.MaxResults, len(list))]
			name := "gatekeeper"
			if part > 0 {
				name = fmt.Sprintf("gatekeeper-%d", part+1)
			}
			r := openreports.Report{Source: Source}
			for _, v := range chunk {
				res := result(v, opts, facts)
				r.Results = append(r.Results, res)
				switch res.Result {
				case "fail":
					r.Summary.Fail++
				case "warn":
					r.Summary.Warn++
				}
			}
			out = append(out, Object{Namespace: ns, Name: name, Report: r})
		}
	}
	return out
}

func sortKey(v store.Violation) string {
	r, c := v.Resource, v.Constraint
	return strings.Join([]string{r.Kind, r.Name, r.Group, c.Kind, c.Name, v.Message, v.Key}, "\x00")
}

func result(v store.Violation, opts Options, facts Facts) openreports.ReportResult {
	outcome := openreports.Result("fail")
	switch v.EnforcementAction {
	case "warn", "dryrun":
		outcome = "warn"
	}
	apiVersion := v.Resource.Version
	if v.Resource.Group != "" {
		apiVersion = v.Resource.Group + "/" + v.Resource.Version
	}
	severity := opts.Severity
	if s, ok := facts.Severity[v.Constraint]; ok {
		severity = s
	}
	return openreports.ReportResult{
		Source:    Source,
		Policy:    v.Constraint.Kind + "/" + v.Constraint.Name,
		Rule:      v.Constraint.Kind,
		Category:  "Gatekeeper",
		Severity:  openreports.ResultSeverity(severity),
		Timestamp: metav1.Timestamp{Seconds: v.FirstSeen.Unix()},
		Result:    outcome,
		Subjects: []corev1.ObjectReference{{APIVersion: apiVersion, Kind: v.Resource.Kind, Namespace: v.Resource.Namespace, Name: v.Resource.Name,
			UID: facts.UID[v.Resource]}},
		Description: v.Message,
		Properties: map[string]string{
			"resultID":          v.Key,
			"constraint":        v.Constraint.Kind + "/" + v.Constraint.Name,
			"template":          strings.ToLower(v.Constraint.Kind),
			"enforcementAction": v.EnforcementAction,
			"cluster":           v.Cluster,
		},
	}
}
