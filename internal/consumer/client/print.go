package client

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Formats of -o.
var Formats = []string{"table", "json", "yaml"}

// CheckFormat refuses an unknown -o.
func CheckFormat(f string) error {
	for _, ok := range Formats {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("-o %q: want table, json or yaml", f)
}

func age(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "<none>"
	}
	return duration.HumanDuration(now.Sub(*t))
}

func encode(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return CheckFormat(format)
}

func resourceName(r store.Resource) string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// PrintViolations prints violations in the format.
func PrintViolations(w io.Writer, format string, vs []store.Violation, now time.Time) error {
	if format != "table" {
		return encode(w, format, vs)
	}
	if len(vs) == 0 {
		_, err := fmt.Fprintln(w, "No violations found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATE\tCONSTRAINT\tRESOURCE\tACTION\tFIRST SEEN\tRESOLVED\tMESSAGE")
	for _, v := range vs {
		first := v.FirstSeen
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Key, v.State,
			Clean(v.Constraint.Kind+"/"+v.Constraint.Name, 80), Clean(resourceName(v.Resource), 80), Clean(v.EnforcementAction, 20),
			age(now, &first), age(now, v.ResolvedAt), Clean(v.Message, 60))
	}
	return tw.Flush()
}

// PrintRuns prints runs in the format.
func PrintRuns(w io.Writer, format string, runs []store.Run, now time.Time) error {
	if format != "table" {
		if runs == nil {
			runs = []store.Run{}
		}
		return encode(w, format, runs)
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "No runs found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "RUN\tCLUSTER\tSTATE\tRECEIVED\tNEW\tSTILL OPEN\tRESOLVED\tAGE\tREASON")
	for _, r := range runs {
		id := r.ID
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", r.ID.Format(time.RFC3339), Clean(r.Cluster, 40), r.State,
			r.Received, r.New, r.StillOpen, r.Resolved, age(now, &id), Clean(r.Reason, 100))
	}
	return tw.Flush()
}

// PrintViolation prints one violation with its timeline.
func PrintViolation(w io.Writer, format string, d api.ViolationDetail, now time.Time) error {
	if format != "table" {
		return encode(w, format, d)
	}
	v := d.Violation
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	first, last := v.FirstSeen, v.LastSeen
	rows := [][2]string{
		{"Key", v.Key}, {"Cluster", Clean(v.Cluster, 0)}, {"State", v.State},
		{"Constraint", Clean(v.Constraint.Kind+"/"+v.Constraint.Name, 0)},
		{"Resource", Clean(resourceName(v.Resource), 0)},
		{"Enforcement", Clean(v.EnforcementAction, 0)}, {"Message", Clean(v.Message, 0)},
		{"First seen", v.FirstSeen.Format(time.RFC3339) + " (" + age(now, &first) + " ago)"},
		{"Last seen", v.LastSeen.Format(time.RFC3339) + " (" + age(now, &last) + " ago)"},
		{"Runs", fmt.Sprint(v.RunCount)},
	}
	if v.ResolvedAt != nil {
		rows = append(rows, [2]string{"Resolved", v.ResolvedAt.Format(time.RFC3339) + " (" + v.Reason + ")"})
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	fmt.Fprintln(tw, "Timeline:")
	for _, e := range d.Timeline {
		reason := ""
		if e.Reason != "" {
			reason = " (" + e.Reason + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", e.At.Format(time.RFC3339), e.Kind, reason)
	}
	return tw.Flush()
}
