package model

import (
	"strconv"
	"strings"
)

// Path is a field path inside an object: map keys (string) and list
// indexes (int), optionally ended by a Pointer into a JSON string value
// and an Inner position inside that string.
type Path []any

// Pointer is a JSON pointer inside a string field that holds JSON (such as
// a connection ConfigMap's data.config). It is shown in the field path but
// positions stop at the string.
type Pointer string

// Inner is a 1-based line and column inside a string field's content.
type Inner struct{ Line, Column int }

// P builds a path.
func P(elems ...any) Path { return Path(elems) }

// Add returns a new path with elems appended.
func (p Path) Add(elems ...any) Path {
	out := make(Path, 0, len(p)+len(elems))
	out = append(out, p...)
	return append(out, elems...)
}

// String renders the path as "spec.template.spec.containers[0].args[2]";
// keys with dots or slashes are quoted: metadata.annotations["dapr.io/enabled"].
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case string:
			if strings.ContainsAny(v, "./[]\" ") || v == "" {
				b.WriteString("[")
				b.WriteString(strconv.Quote(v))
				b.WriteString("]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		case int:
			b.WriteString("[")
			b.WriteString(strconv.Itoa(v))
			b.WriteString("]")
		case Pointer:
			b.WriteString(string(v))
		}
	}
	return b.String()
}
