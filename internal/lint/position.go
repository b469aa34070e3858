package lint

import (
	"hash/crc32"
	"os"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/input"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// locator finds the line and column of a field in its source. It parses
// an object's text only when a finding needs it.
type locator struct {
	origins map[string][]render.Object
	// copies say where the inputs whose released objects let their Raw go
	// can be read again; docs are their documents by line, read again.
	copies map[string]input.TextCopy
	docs   map[string]map[int][]byte
}

func newLocator(copies map[string]input.TextCopy) *locator {
	return &locator{origins: map[string][]render.Object{}, copies: copies, docs: map[string]map[int][]byte{}}
}

// locate returns the file and the 1-based line and column of field in o
// (0, 0 unknown). For an object rendered from a chart that is the template
// file on disk and the template line that produced the field (the column
// is the rendered one).
func (l *locator) locate(o *model.Object, field model.Path) (string, int, int) {
	if o == nil {
		return "", 0, 0
	}
	if t := o.Template; t != nil {
		line, col := position(o.Object, field)
		if src := t.SourceLine(line); src > 0 {
			return t.File, src, col
		}
		return t.File, 0, 0
	}
	if o.Line > 0 {
		ro := o.Object
		if ro.Raw == nil && ro.Released() {
			ro.Raw = l.reread(o.Source, o.Line)
		}
		line, col := position(ro, field)
		return o.Source, line, col
	}
	// kustomize output: find the object in its original file (origin
	// annotations) and the field there, if it is there.
	if orig, ok := l.original(o); ok {
		line, col := position(orig, field)
		return o.Source, line, col
	}
	return o.Source, 0, 0
}

// reread returns the text of the document at line of source, read again
// from its copy (the file itself, or standard input's spool), or nil when
// the copy changed since it was linted (its CRC-32 differs) or cannot be
// read: the finding then points at the object's line.
func (l *locator) reread(source string, line int) []byte {
	docs, ok := l.docs[source]
	if !ok {
		if c, known := l.copies[source]; known {
			if data, err := os.ReadFile(c.Path); err == nil && crc32.ChecksumIEEE(data) == c.Sum {
				docs = render.DocumentsByLine(data)
			}
		}
		l.docs[source] = docs
	}
	return docs[line]
}

func (l *locator) original(o *model.Object) (render.Object, bool) {
	objs, ok := l.origins[o.Source]
	if !ok {
		if data, err := os.ReadFile(o.Source); err == nil {
			objs, _ = render.SplitYAML(o.Source, data)
		}
		l.origins[o.Source] = objs
	}
	var best render.Object
	found := false
	for _, c := range objs {
		if c.Kind() != o.Kind() || c.Name() == "" {
			continue
		}
		if c.Name() == o.Name() {
			return c, true
		}
		if !found && strings.Contains(o.Name(), c.Name()) {
			best, found = c, true
		}
	}
	return best, found
}

// position walks the document's YAML nodes along field.
func position(o render.Object, field model.Path) (int, int) {
	if len(field) == 0 {
		return o.Line, 1
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(o.Raw, &doc); err != nil || len(doc.Content) == 0 {
		return o.Line, 1
	}
	first := o.Line - leadingLines(o.Raw)
	abs := func(n *yaml.Node) (int, int) { return first + n.Line - 1, n.Column }
	cur := doc.Content[0]
	line, col := abs(cur)
	for _, e := range field {
		switch v := e.(type) {
		case string:
			if cur.Kind != yaml.MappingNode {
				return line, col
			}
			var next *yaml.Node
			for i := 0; i+1 < len(cur.Content); i += 2 {
				if cur.Content[i].Value == v {
					line, col = abs(cur.Content[i])
					next = cur.Content[i+1]
					break
				}
			}
			if next == nil {
				return line, col
			}
			cur = next
			if cur.Kind == yaml.ScalarNode {
				line, col = abs(cur)
			}
		case int:
			if cur.Kind != yaml.SequenceNode || v < 0 || v >= len(cur.Content) {
				return line, col
			}
			cur = cur.Content[v]
			line, col = abs(cur)
		case model.Inner:
			if cur.Kind != yaml.ScalarNode || (cur.Style != yaml.LiteralStyle && cur.Style != yaml.FoldedStyle) {
				return line, col
			}
			lines := strings.Split(string(o.Raw), "\n")
			firstContent := cur.Line // 0-based index of the line after the indicator
			if firstContent >= len(lines) {
				return line, col
			}
			valueFirst := strings.SplitN(cur.Value, "\n", 2)[0]
			indent := leadingSpaces(lines[firstContent]) - leadingSpaces(valueFirst)
			return first + cur.Line + v.Line - 1, indent + v.Column
		case model.Pointer:
			return line, col
		}
	}
	return line, col
}

// leadingLines counts the blank and comment lines before a document's content.
func leadingLines(raw []byte) int {
	n := 0
	for _, l := range strings.Split(string(raw), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return n
		}
		n++
	}
	return 0
}

func leadingSpaces(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
