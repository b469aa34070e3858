package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

func init() { register("github", GitHub) }

// GitHub writes GitHub Actions workflow commands:
// "::error file=F,line=L,col=C,title=rule::message" per finding (title
// input-error for an input that could not be loaded) and "::notice::note"
// per note.
func GitHub(w io.Writer, res *lint.Result) error {
	bw := bufio.NewWriter(w)
	for _, f := range res.Findings {
		cmd := "error"
		if f.Severity != "error" {
			cmd = "warning"
		}
		var props []string
		if f.File != "" {
			props = append(props, "file="+ghProp(f.File))
			if f.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", f.Line), fmt.Sprintf("col=%d", max(f.Column, 1)))
			}
		}
		props = append(props, "title="+ghProp(f.Rule))
		msg := f.Message
		if o := f.Object.String(); o != "" {
			msg += " (" + o + ")"
		}
		fmt.Fprintf(bw, "::%s %s::%s\n", cmd, strings.Join(props, ","), ghData(msg))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(bw, "::notice::%s\n", ghData(n))
	}
	return bw.Flush()
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
