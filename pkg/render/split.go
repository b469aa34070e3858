package render

import (
	"bufio"
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
// or a comment, as YAML document markers.
func splitDocs(data []byte) []doc {
	var docs []doc
	cur := doc{firstLine: 1}
	var buf bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "---"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			cur.text = append([]byte(nil), buf.Bytes()...)
			docs = append(docs, cur)
			buf.Reset()
			cur = doc{firstLine: line + 1}
			rest = strings.TrimSpace(rest)
			if rest != "" && !strings.HasPrefix(rest, "#") {
				// "--- {a: 1}": the document starts on the marker's line.
				cur.firstLine = line
				buf.WriteString(rest)
				buf.WriteByte('\n')
			}
			continue
		}
		if strings.TrimRight(l, " \t\r") == "..." {
			continue
		}
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	cur.text = append([]byte(nil), buf.Bytes()...)
	return append(docs, cur)
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func decodeDoc(source string, d doc) ([]Object, error) {
	start := contentLine(d)
	if start == 0 {
		return nil, nil // blank or comments only
	}
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
	for i, l := range strings.Split(string(d.text), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return d.firstLine + i
		}
	}
	return 0
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
