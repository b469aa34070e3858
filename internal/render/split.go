package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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
	err := EachYAML(source, data, func(o Object) error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// EachYAML is SplitYAML one object at a time: it decodes a document only
// when fn has taken the previous one, so a caller that keeps little of
// each object holds little more than data in memory. An error of fn stops
// the walk and is returned as is. An object's Raw shares data's bytes
// where the document is a contiguous run of data's lines.
func EachYAML(source string, data []byte, fn func(Object) error) error {
	return eachDoc(data, nil, eachObject(source, fn))
}

// EachYAMLFrom is EachYAML reading r as it goes: only the document being
// decoded is in memory, never the whole stream. Each object's Raw is a
// copy of its own. An error reading r is returned as is. r is read through
// a 64 KiB buffer unless it is a *bufio.Reader (size it to the input when
// reading many small files).
func EachYAMLFrom(source string, r io.Reader, fn func(Object) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return eachDoc(nil, br, eachObject(source, fn))
}

func eachObject(source string, fn func(Object) error) func(doc) error {
	return func(d doc) error {
		objs, err := decodeDoc(source, d)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	}
}

// DocumentsByLine indexes the documents of data by the line their content
// starts on (an Object's Line), each with its text as the Raw of the
// objects SplitYAML makes of it. A caller that let an object's Raw go finds
// it again here from the file.
func DocumentsByLine(data []byte) map[int][]byte {
	out := map[int][]byte{}
	_ = eachDoc(data, nil, func(d doc) error {
		if line := contentLine(d); line > 0 {
			out[line] = bytes.TrimRight(d.text, "\n")
		}
		return nil
	})
	return out
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
	_ = eachDoc(data, nil, func(d doc) error {
		docs = append(docs, d)
		return nil
	})
	return docs
}

// eachDoc is splitDocs calling fn for each document in turn, of data or,
// when r is not nil, of the lines read from r. A document whose lines are a
// contiguous run of data, each ended by "\n", is a slice of data; any
// other is copied.
func eachDoc(data []byte, r *bufio.Reader, fn func(doc) error) error {
	cur := doc{firstLine: 1}
	var buf []byte // a copied document of data
	var pg pages   // a document read from r
	// While whole, the document so far is all[start:end]: lines taken as
	// they are in data, each with its "\n".
	all := data
	whole, start, end := true, 0, 0
	line := 0
	flush := func() error {
		switch {
		case r != nil:
			cur.text = pg.bytes()
		case !whole:
			cur.text = buf
		case end > start:
			cur.text = all[start:end:end]
		default:
			cur.text = nil
		}
		err := fn(cur)
		buf = nil
		pg = pages{}
		whole, start, end = true, 0, 0
		return err
	}
	for {
		off := len(all) - len(data)
		var l []byte
		exact := false // l is data's line followed by its "\n"
		if r != nil {
			b, err := readLine(r)
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			if len(b) == 0 && errors.Is(err, io.EOF) {
				break
			}
			off = -1 // not in data: copied
			l = bytes.TrimSuffix(b, []byte("\n"))
			// bufio.ScanLines drops a "\r" before "\n", and at EOF too.
			l = bytes.TrimSuffix(l, []byte("\r"))
		} else if len(data) == 0 {
			break
		} else if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
			exact = true
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
				exact = false
			}
		} else {
			// bufio.ScanLines drops a final "\r" at EOF too.
			l, data = data, nil
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
		}
		line++
		if rest, ok := bytes.CutPrefix(l, docMarker); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t') {
			if err := flush(); err != nil {
				return err
			}
			cur = doc{firstLine: line + 1}
			rest = bytes.TrimSpace(rest)
			if len(rest) > 0 && rest[0] != '#' {
				// "--- {a: 1}": the document starts on the marker's line.
				cur.firstLine = line
				whole = false
				if r != nil {
					pg.write(rest)
					pg.write(newline)
				} else {
					buf = append(buf, rest...)
					buf = append(buf, '\n')
				}
			}
			continue
		}
		if len(l) >= 3 && l[0] == '.' && string(bytes.TrimRight(l, " \t\r")) == "..." {
			continue
		}
		if r != nil {
			whole = false // lines read from r are copied
			pg.write(l)
			pg.write(newline)
			continue
		}
		if whole {
			switch {
			case start == end:
				start, end = off, off
				fallthrough
			case end == off:
				if exact {
					end = off + len(l) + 1
					continue
				}
			}
			// Not contiguous (a line left out or changed): copy from here on.
			whole = false
			buf = make([]byte, 0, (end-start)+nextDocLen(l, data)+1)
			buf = append(buf, all[start:end]...)
		}
		if buf == nil {
			// Most documents are one run of lines: size the copy once.
			buf = make([]byte, 0, nextDocLen(l, data)+1)
		}
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	return flush()
}

var newline = []byte("\n")

// pages gathers a document read line by line. A slice grown by append
// allocates about five times its final size (Go grows large slices by a
// quarter). Here the first page doubles up to 64 KiB, so a document of that
// size or less (nearly all) is one slice, never joined; a larger one goes on
// in 64 KiB pages, joined once at the end. An endless document read until
// the --max-input-bytes limit thus costs about the limit, not five times it.
type pages struct {
	full [][]byte
	cur  []byte
	n    int
}

const maxPage = 64 << 10

func (p *pages) write(b []byte) {
	for len(b) > 0 {
		if len(p.cur) == cap(p.cur) {
			if c := cap(p.cur); c < maxPage && len(p.full) == 0 {
				grown := make([]byte, len(p.cur), min(max(2*c, 512, len(p.cur)+len(b)), maxPage))
				copy(grown, p.cur)
				p.cur = grown
			} else {
				p.full = append(p.full, p.cur)
				p.cur = make([]byte, 0, maxPage)
			}
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur, b = p.cur[:len(p.cur)+k], b[k:]
		p.n += k
	}
}

// bytes returns the document; nil when empty.
func (p *pages) bytes() []byte {
	if p.n == 0 {
		return nil
	}
	if len(p.full) == 0 {
		return p.cur
	}
	out := make([]byte, 0, p.n)
	for _, f := range p.full {
		out = append(out, f...)
	}
	return append(out, p.cur...)
}

// readLine reads up to and including the next "\n" (or to the end); the
// bytes are valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return b, err
	}
	long := append([]byte(nil), b...)
	for errors.Is(err, bufio.ErrBufferFull) {
		b, err = r.ReadSlice('\n')
		long = append(long, b...)
	}
	return long, err
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
