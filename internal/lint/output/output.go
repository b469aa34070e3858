// Package output writes a lint result in one format per file: text, json,
// sarif and github (workflow annotations).
package output

import (
	"fmt"
	"io"
	"sort"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// Writer writes a result.
type Writer func(w io.Writer, res *lint.Result) error

var formats = map[string]Writer{}

func register(name string, w Writer) { formats[name] = w }

// Formats lists the format names.
func Formats() []string {
	out := make([]string, 0, len(formats))
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Write writes res in the named format.
func Write(format string, w io.Writer, res *lint.Result) error {
	f, ok := formats[format]
	if !ok {
		return fmt.Errorf("unknown format %q: want one of %v", format, Formats())
	}
	return f(w, res)
}
