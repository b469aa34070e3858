package render

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// SplitYAML splits a stream of YAML (or JSON) documents into objects. Empty
// documents (only blank lines or comments, or null) are skipped. A document
// of kind List (any apiVersion ending in "v1") is expanded into its items,
// each keeping the position of the List. Errors name the source and the
// line in it.
func SplitYAML(source string, data []byte) ([]Object, error) {
	var out []Object
	for _, d := range splitDocs(data) {
		objs, err := decodeDoc(source, d)
		if err != nil {
			return out, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// doc is one document of a stream: its text and the 1-based line where the
// text starts (after any "---" separator).
type doc struct {
	text      []byte
	firstLine int
}

// splitDocs splits at lines that start with "---" followed by nothing, space
// or a comment, as YAML document markers. Lines are split as by
// bufio.ScanLines (a "\r" before "\n" is dropped); lines that are "..."
// (document end markers) are left out.
func splitDocs(data []byte) []doc {
	var docs []doc
	cur := doc{firstLine: 1}
	var buf []byte
	line := 0
	flush := func() {
		cur.text = buf
		docs = append(docs, cur)
		buf = nil
	}
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
		} else {
			// bufio.ScanLines drops a final "\r" at EOF too.
			l, data = data, nil
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
		}
		if rest, ok := bytes.CutPrefix(l, docMarker); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t') {
			flush()
			cur = doc{firstLine: line + 1}
			rest = bytes.TrimSpace(rest)
			if len(rest) > 0 && rest[0] != '#' {
				// "--- {a: 1}": the document starts on the marker's line.
				cur.firstLine = line
				buf = append(buf, rest...)
				buf = append(buf, '\n')
			}
			continue
		}
		if len(l) >= 3 && l[0] == '.' && string(bytes.TrimRight(l, " \t\r")) == "..." {
			continue
		}
		if buf == nil {
			// Most documents are one run of lines: size the copy once.
			buf = make([]byte, 0, nextDocLen(l, data)+1)
		}
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	cur.text = buf
	return append(docs, cur)
}

var docMarker = []byte("---")

// nextDocLen estimates the length of the document that starts with line l,
// followed by rest: up to the next line starting with "---".
func nextDocLen(l, rest []byte) int {
	if i := bytes.Index(rest, nextMarker); i >= 0 {
		return len(l) + 1 + i + 1
	}
	return len(l) + 1 + len(rest)
}

var nextMarker = []byte("\n---")

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func decodeDoc(source string, d doc) ([]Object, error) {
	start := contentLine(d)
	if start == 0 {
		return nil, nil // blank or comments only
	}
	if m, ok := fastDecode(d.text); ok {
		o := Object{Source: source, Line: start, Obj: m, Raw: bytes.TrimRight(d.text, "\n")}
		if o.Kind() != "List" || !strings.HasSuffix(o.APIVersion(), "v1") {
			return []Object{o}, nil
		}
	}
	return decodeGeneral(source, d, start)
}

// decodeGeneral decodes any YAML through sigs.k8s.io/yaml (YAML -> JSON)
// and decodeJSON.
func decodeGeneral(source string, d doc, start int) ([]Object, error) {
	js, err := yaml.YAMLToJSON(d.text)
	if err != nil {
		return nil, docError(source, d, err)
	}
	v, err := decodeJSON(js)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", source, start, err)
	}
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s:%d: document is a %s, not a mapping (a Kubernetes object)", source, start, typeName(v))
	}
	o := Object{Source: source, Line: start, Obj: m, Raw: bytes.TrimRight(d.text, "\n")}
	if o.Kind() == "List" && strings.HasSuffix(o.APIVersion(), "v1") {
		items, _ := m["items"].([]any)
		var out []Object
		for i, it := range items {
			im, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s:%d: List item %d is a %s, not an object", source, start, i, typeName(it))
			}
			raw, err := yaml.Marshal(im)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: List item %d: %w", source, start, i, err)
			}
			out = append(out, Object{Source: source, Line: start, Obj: im, Raw: raw})
		}
		return out, nil
	}
	return []Object{o}, nil
}

// contentLine returns the absolute line of the first line that is neither
// blank nor a comment, or 0 when there is none.
func contentLine(d doc) int {
	t := d.text
	for i := 0; ; i++ {
		var l []byte
		if j := bytes.IndexByte(t, '\n'); j >= 0 {
			l, t = t[:j], t[j+1:]
		} else {
			l, t = t, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return d.firstLine + i
		}
		if t == nil {
			return 0
		}
	}
}

// docError rewrites the YAML library's document-relative line numbers into
// lines of the source.
func docError(source string, d doc, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	line := 0
	msg = yamlLineRE.ReplaceAllStringFunc(msg, func(s string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "line "))
		abs := d.firstLine + n - 1
		if line == 0 {
			line = abs
		}
		return "line " + strconv.Itoa(abs)
	})
	if line == 0 {
		line = contentLine(d)
	}
	return fmt.Errorf("%s:%d: invalid YAML: %s", source, line, msg)
}

func typeName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	default:
		return fmt.Sprintf("%T", v)
	}
}
