package output

import (
	"bufio"
	"fmt"
	"io"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

func init() { register("text", Text) }

// Text writes "file:line:col: severity rule-id: message (Kind ns/name)" per
// finding (an input that could not be loaded is a finding of rule
// input-error), "note: ..." per note, and a summary line (with the count of
// findings suppressed by ignore annotations, when there are any).
func Text(w io.Writer, res *lint.Result) error {
	bw := bufio.NewWriter(w)
	for _, f := range res.Findings {
		fmt.Fprintf(bw, "%s: %s %s: %s", location(f), f.Severity, f.Rule, f.Message)
		if o := f.Object.String(); o != "" {
			fmt.Fprintf(bw, " (%s)", o)
		}
		_ = bw.WriteByte('\n') // a write error shows at the Flush below
	}
	for _, n := range res.Notes {
		fmt.Fprintf(bw, "note: %s\n", n)
	}
	suppressed := ""
	if n := len(res.Suppressed); n > 0 {
		suppressed = fmt.Sprintf(", %d suppressed", n)
	}
	fmt.Fprintf(bw, "%s, %s%s in %s (%s)\n",
		plural(res.Count(rules.Error), "error"), plural(res.Count(rules.Warning), "warning"), suppressed,
		plural(res.Files, "file"), plural(res.Objects, "object"))
	return bw.Flush()
}

func location(f lint.Finding) string {
	file := f.File
	if file == "" {
		file = "<flags>"
	}
	if f.Line <= 0 {
		return file
	}
	return fmt.Sprintf("%s:%d:%d", file, f.Line, max(f.Column, 1))
}

func plural(n int, s string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", s)
	}
	return fmt.Sprintf("%d %ss", n, s)
}
