package render

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// fastDecode decodes a document written in a common, simple subset of YAML
// (block mappings and sequences, single-line plain and quoted scalars,
// single-line flow collections, comments) straight into the value that
// the general path (sigs.k8s.io/yaml: YAML 1.1 via yaml.v2, then JSON,
// then decodeJSON) produces, without the YAML -> JSON -> decode round
// trip. It returns ok=false for anything outside the subset: anchors,
// aliases, tags, block scalars, multi-line scalars, escapes, tabs,
// non-ASCII text, duplicate keys, keys that are not strings, scalars that
// resolve to floats or timestamps, and every syntax error. The caller then
// takes the general path, so results and error messages never differ; the
// fast path only ever accepts documents the general path decodes to the
// same value (see TestFastDecodeMatchesGeneral and FuzzFastDecode).
func fastDecode(text []byte) (map[string]any, bool) {
	p := fastParser{}
	if !p.split(text) || len(p.lines) == 0 {
		return nil, false
	}
	first := p.lines[0]
	if _, _, ok := p.key(first.text); !ok {
		return nil, false
	}
	m, ok := p.mapping(first.indent)
	if !ok || p.i != len(p.lines) {
		return nil, false
	}
	return m, true
}

type fastLine struct {
	indent int
	text   []byte // from the first non-space character, trailing spaces kept
}

type fastParser struct {
	lines []fastLine
	i     int
	depth int
}

// split records the content lines (neither blank nor comment only) and
// refuses text outside printable ASCII, tabs and carriage returns.
func (p *fastParser) split(text []byte) bool {
	n := 0
	for _, c := range text {
		if c == '\n' {
			n++
		} else if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	p.lines = make([]fastLine, 0, n+1)
	for len(text) > 0 {
		end := bytes.IndexByte(text, '\n')
		var l []byte
		if end < 0 {
			l, text = text, nil
		} else {
			l, text = text[:end], text[end+1:]
		}
		ind := 0
		for ind < len(l) && l[ind] == ' ' {
			ind++
		}
		if ind == len(l) || l[ind] == '#' {
			continue
		}
		p.lines = append(p.lines, fastLine{indent: ind, text: l[ind:]})
	}
	return true
}

// isItem says whether a line is a block sequence entry ("-" then a space or the end).
func isItem(t []byte) bool { return len(t) > 0 && t[0] == '-' && (len(t) == 1 || t[1] == ' ') }

// mapping parses a block mapping whose keys are at indent; p.i is at its
// first line.
func (p *fastParser) mapping(indent int) (map[string]any, bool) {
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	m := make(map[string]any, 4)
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, false
		}
		k, rest, ok := p.key(l.text)
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		rest = trimLeft(rest)
		if len(rest) == 0 || rest[0] == '#' {
			p.i++
			v, ok := p.blockValue(indent, true)
			if !ok {
				return nil, false
			}
			m[k] = v
			continue
		}
		v, ok := inlineValue(rest)
		if !ok {
			return nil, false
		}
		m[k] = v
		p.i++
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return nil, false // a multi-line scalar or an error
		}
	}
	return m, true
}

// blockValue parses the value of a key or entry with nothing after its
// indicator: a nested node on the next lines, or null. sameIndentSeq allows
// a sequence at the parent's indent (the value of a mapping key).
func (p *fastParser) blockValue(parent int, sameIndentSeq bool) (any, bool) {
	if p.i >= len(p.lines) {
		return nil, true
	}
	l := p.lines[p.i]
	switch {
	case l.indent > parent:
		if isItem(l.text) {
			return p.sequence(l.indent)
		}
		if _, _, ok := p.key(l.text); ok {
			return p.mapping(l.indent)
		}
		return nil, false // a scalar on its own line
	case l.indent == parent && sameIndentSeq && isItem(l.text):
		return p.sequence(l.indent)
	}
	return nil, true
}

// sequence parses a block sequence whose "-" are at indent.
func (p *fastParser) sequence(indent int) ([]any, bool) {
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	out := make([]any, 0, 2)
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent || (l.indent == indent && !isItem(l.text)) {
			break
		}
		if l.indent > indent {
			return nil, false
		}
		sp := 1
		for sp < len(l.text) && l.text[sp] == ' ' {
			sp++
		}
		rest := l.text[sp:]
		if len(rest) == 0 || rest[0] == '#' {
			p.i++
			v, ok := p.blockValue(indent, false)
			if !ok {
				return nil, false
			}
			out = append(out, v)
			continue
		}
		col := indent + sp
		if isItem(rest) {
			p.lines[p.i] = fastLine{indent: col, text: rest}
			v, ok := p.sequence(col)
			if !ok {
				return nil, false
			}
			out = append(out, v)
			continue
		}
		if _, _, ok := p.key(rest); ok {
			p.lines[p.i] = fastLine{indent: col, text: rest}
			v, ok := p.mapping(col)
			if !ok {
				return nil, false
			}
			out = append(out, v)
			continue
		}
		v, ok := inlineValue(rest)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		p.i++
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return nil, false
		}
	}
	return out, true
}

// key reads "key:" followed by a space or the end of the line; it returns
// the key and what follows the colon.
func (p *fastParser) key(t []byte) (string, []byte, bool) {
	var k string
	var rest []byte
	switch {
	case len(t) == 0:
		return "", nil, false
	case t[0] == '"' || t[0] == '\'':
		s, n, ok := quoted(t)
		if !ok || n > 512 {
			return "", nil, false
		}
		k, rest = s, t[n:]
	default:
		n := 0
		for n < len(t) && isKeyChar(t[n]) {
			n++
		}
		if n == 0 || n > 512 || t[0] == '-' || t[0] == '.' {
			return "", nil, false
		}
		if n == len(t) || t[n] != ':' {
			return "", nil, false
		}
		k, rest = internKey(t[:n]), t[n:]
		if v, ok := resolvePlain(k); !ok {
			return "", nil, false
		} else if _, isStr := v.(string); !isStr {
			return "", nil, false
		}
	}
	if len(rest) == 0 || rest[0] != ':' || (len(rest) > 1 && rest[1] != ' ') {
		return "", nil, false
	}
	return k, rest[1:], true
}

func isKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-'
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`apiVersion kind metadata name namespace labels annotations spec
		template selector matchLabels containers image args command env value valueFrom ports
		containerPort port targetPort protocol resources requests limits cpu memory replicas data
		type version items securityContext app volumeMounts volumes mountPath key secretKeyRef
		configMapKeyRef scopes provider config driver serviceAccountName initContainers`) {
		m[k] = k
	}
	return m
}()

// internKey returns common keys without allocating.
func internKey(b []byte) string {
	if s, ok := commonKeys[string(b)]; ok {
		return s
	}
	return string(b)
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// atEnd says whether only spaces, or spaces and a comment, are left.
func atEnd(b []byte) bool {
	t := trimLeft(b)
	return len(t) == 0 || (t[0] == '#' && len(t) < len(b))
}

// quoted reads a single-line quoted scalar at t[0]; double-quoted ones
// must have no escapes. It returns the value and the length read.
func quoted(t []byte) (string, int, bool) {
	q := t[0]
	if q == '"' {
		for i := 1; i < len(t); i++ {
			switch t[i] {
			case '\\':
				return "", 0, false
			case '"':
				return string(t[1:i]), i + 1, true
			}
		}
		return "", 0, false
	}
	var sb []byte
	start := 1
	for i := 1; i < len(t); i++ {
		if t[i] != '\'' {
			continue
		}
		if i+1 < len(t) && t[i+1] == '\'' {
			sb = append(sb, t[start:i+1]...)
			i++
			start = i + 1
			continue
		}
		if sb == nil {
			return string(t[1:i]), i + 1, true
		}
		return string(append(sb, t[start:i]...)), i + 1, true
	}
	return "", 0, false
}

// inlineValue decodes the rest of a line after "key: " or "- ".
func inlineValue(t []byte) (any, bool) {
	switch t[0] {
	case '"', '\'':
		s, n, ok := quoted(t)
		if !ok || !atEnd(t[n:]) {
			return nil, false
		}
		return s, true
	case '[', '{':
		f := flow{t: t}
		v, ok := f.value()
		if !ok || !atEnd(t[f.i:]) {
			return nil, false
		}
		return v, true
	case ']', '}', ',', '#', '&', '*', '!', '|', '>', '%', '@', '`', '?', ':':
		return nil, false
	case '-':
		if len(t) == 1 || t[1] == ' ' {
			return nil, false
		}
	}
	end := len(t)
	for i := 1; i < len(t); i++ {
		if t[i] == '#' && t[i-1] == ' ' {
			end = i
			break
		}
	}
	s := t[:end]
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	for i, c := range s {
		if c == ':' && (i+1 == len(s) || s[i+1] == ' ') {
			return nil, false
		}
	}
	return resolvePlain(string(s))
}

// flow parses a single-line flow collection.
type flow struct {
	t     []byte
	i     int
	depth int
}

// maxDepth bounds nesting on the fast path; deeper documents take the
// general one.
const maxDepth = 64

func (f *flow) skip() {
	for f.i < len(f.t) && f.t[f.i] == ' ' {
		f.i++
	}
}

func (f *flow) value() (any, bool) {
	f.depth++
	defer func() { f.depth-- }()
	if f.depth > maxDepth {
		return nil, false
	}
	f.skip()
	if f.i >= len(f.t) {
		return nil, false
	}
	switch c := f.t[f.i]; c {
	case '[':
		f.i++
		out := make([]any, 0, 2)
		f.skip()
		if f.i < len(f.t) && f.t[f.i] == ']' {
			f.i++
			return out, true
		}
		for {
			v, ok := f.value()
			if !ok {
				return nil, false
			}
			out = append(out, v)
			f.skip()
			if f.i >= len(f.t) {
				return nil, false
			}
			if f.t[f.i] == ']' {
				f.i++
				return out, true
			}
			if f.t[f.i] != ',' {
				return nil, false
			}
			f.i++
		}
	case '{':
		f.i++
		m := make(map[string]any, 2)
		f.skip()
		if f.i < len(f.t) && f.t[f.i] == '}' {
			f.i++
			return m, true
		}
		for {
			f.skip()
			if f.i >= len(f.t) {
				return nil, false
			}
			var k string
			if q := f.t[f.i]; q == '"' || q == '\'' {
				s, n, ok := quoted(f.t[f.i:])
				if !ok || n > 512 {
					return nil, false
				}
				k = s
				f.i += n
			} else {
				n := f.i
				for n < len(f.t) && isKeyChar(f.t[n]) {
					n++
				}
				if n == f.i || n-f.i > 512 || f.t[f.i] == '-' || f.t[f.i] == '.' {
					return nil, false
				}
				k = internKey(f.t[f.i:n])
				if v, ok := resolvePlain(k); !ok {
					return nil, false
				} else if _, isStr := v.(string); !isStr {
					return nil, false
				}
				f.i = n
			}
			if f.i+1 >= len(f.t) || f.t[f.i] != ':' || f.t[f.i+1] != ' ' {
				return nil, false
			}
			f.i += 2
			if _, dup := m[k]; dup {
				return nil, false
			}
			v, ok := f.value()
			if !ok {
				return nil, false
			}
			m[k] = v
			f.skip()
			if f.i >= len(f.t) {
				return nil, false
			}
			if f.t[f.i] == '}' {
				f.i++
				return m, true
			}
			if f.t[f.i] != ',' {
				return nil, false
			}
			f.i++
		}
	case '"', '\'':
		s, n, ok := quoted(f.t[f.i:])
		if !ok {
			return nil, false
		}
		f.i += n
		return s, true
	case ']', '}', ',', '#', '&', '*', '!', '|', '>', '%', '@', '`', '?', ':', '-':
		// "-" could start a plain scalar ("-x"), but keep it simple.
		return nil, false
	}
	start := f.i
	for f.i < len(f.t) {
		c := f.t[f.i]
		if c == ',' || c == ']' || c == '}' {
			break
		}
		if !isKeyChar(c) && c != ' ' && c != '=' && c != '+' {
			return nil, false
		}
		f.i++
	}
	s := f.t[start:f.i]
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 {
		return nil, false
	}
	return resolvePlain(string(s))
}

// yamlStyleFloat is yaml.v2's.
var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvePlain resolves a non-empty plain scalar as yaml.v2 does (YAML 1.1
// booleans and nulls, integers) and as the JSON round trip then turns it
// (integers into int64). ok is false for values the fast path leaves to
// the general one: floats, timestamps, integers in non-decimal notation.
func resolvePlain(s string) (any, bool) {
	if s == "" {
		return nil, true
	}
	switch c := s[0]; {
	case c == '+' || c == '-' || '0' <= c && c <= '9':
		if n, ok := decimal(s); ok {
			return n, true
		}
		// Anything that could be a timestamp, a number in another
		// notation, or a float goes the general way.
		i := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == 4 && i < len(s) && s[i] == '-' {
			return nil, false
		}
		numeric := true
		for j := 0; j < len(s); j++ {
			if !strings.ContainsRune("0123456789abcdefABCDEFxXoO_+-.", rune(s[j])) {
				numeric = false
				break
			}
		}
		if !numeric {
			return s, true
		}
		plain := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return nil, false
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return nil, false
		}
		if yamlStyleFloat.MatchString(plain) || strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "-0b") {
			return nil, false
		}
		return s, true
	case c == '.':
		switch s {
		case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF":
			return nil, false
		}
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return nil, false
		}
		return s, true
	case c == '~':
		if s == "~" {
			return nil, true
		}
	case strings.IndexByte("yYnNtTfFoO", c) >= 0:
		switch s {
		case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
			return true, true
		case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
			return false, true
		case "null", "Null", "NULL":
			return nil, true
		}
	}
	return s, true
}

// decimal parses -?(0|[1-9][0-9]*) of at most 18 digits.
func decimal(s string) (int64, bool) {
	d := s
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 || (d[0] == '0' && len(d) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if s[0] == '-' {
		n = -n
	}
	return n, true
}
