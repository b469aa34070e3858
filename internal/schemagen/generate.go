package schemagen

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/schemagen/gosource"
)

// BaseURL is the $id prefix of every schema (as in schemas/schemas.go).
const BaseURL = "https://gatekeeper-pubsub.dev/schemas/"

const draft = "https://json-schema.org/draft/2020-12/schema"

// Value patterns. They use only syntax that ECMA-262 and Go's RE2 agree on,
// so editors and github.com/santhosh-tekuri/jsonschema read them alike.
var (
	// boolPattern accepts what dapr/kit utils.IsTruthy reads as true
	// (y, yes, true, t, on, 1; case-insensitive, surrounding blanks
	// trimmed) and the matching false words. IsTruthy reads any other
	// string as false, which is almost always a typo, hence the lint.
	boolPattern = `^\s*(?:` + strings.Join(caseless("true", "false", "yes", "no", "on", "off", "y", "n", "t", "f"), "|") + `|1|0)\s*$`
	// numberPattern is a plain decimal number (mapstructure's weakly typed
	// string -> int/float decoding).
	numberPattern = `^-?[0-9]+(?:\.[0-9]+)?$`
	// durationPattern is a Go duration (time.ParseDuration) or an integer,
	// which dapr/kit's duration decode hook reads as seconds.
	durationPattern = `^[-+]?(?:(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|[0-9]+)$`
	// goDurationPattern is a Go duration only (time.ParseDuration).
	goDurationPattern = `^[-+]?(?:(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$`
	// bytesizePattern is a Kubernetes resource quantity (dapr/kit ByteSize).
	bytesizePattern = `^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$`
)

func caseless(words ...string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		var sb strings.Builder
		for _, r := range w {
			up, lo := strings.ToUpper(string(r)), strings.ToLower(string(r))
			if up == lo {
				sb.WriteRune(r)
			} else {
				sb.WriteString("[" + up + lo + "]")
			}
		}
		out[i] = sb.String()
	}
	return out
}

var typeDefs = []struct {
	name, pattern, description string
}{
	{"bool", boolPattern, "A boolean as Dapr reads it: true/false, yes/no, on/off, y/n, t/f or 1/0, in any case."},
	{"number", numberPattern, "A decimal number."},
	{"duration", durationPattern, "A Go duration such as 500ms, 10s or 1h30m, or a whole number of seconds."},
	{"bytesize", bytesizePattern, "A byte size as a Kubernetes quantity such as 512Ki or 1M."},
}

// RuntimeKeys are read by the Dapr runtime (dapr/dapr v1.14.0
// pkg/scopes and pkg/runtime/processor/pubsub) for every pubsub component,
// whatever its type; TestRuntimeKeysMatchDapr checks them against that
// source with gosource.Keys. consumerID defaults to the app ID, so it is never
// required even where a metadata.yaml says so.
var RuntimeKeys = []string{"consumerID", "allowedTopics", "publishingScopes", "subscriptionScopes", "protectedTopics"}

// notRequired lists keys that are never globally required.
var notRequired = map[string]bool{"consumerID": true}

// Generate renders every schema the facts describe, and the connection
// config schema of each of Gatekeeper's Drivers. The keys of the result
// are paths relative to the schemas directory, for example
// "pubsub/pubsub.redis.schema.json" and "component.schema.json".
func Generate(f *Facts) (map[string][]byte, error) {
	out := map[string][]byte{}
	b, err := encode(componentSchema())
	if err != nil {
		return nil, err
	}
	out["component.schema.json"] = b
	for _, d := range Drivers() {
		b, err := encode(driverSchema(d))
		if err != nil {
			return nil, fmt.Errorf("driver %s: %w", d.Name, err)
		}
		out[DriverPath(d.Name)] = b
	}
	for _, c := range f.Components {
		s, err := pubsubSchema(f.Source, c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Type, err)
		}
		b, err := encode(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Type, err)
		}
		out[PubsubPath(c.Type)] = b
	}
	return out, nil
}

// PubsubPath is the schema file of a pubsub type, relative to schemas/.
func PubsubPath(componentType string) string {
	return "pubsub/" + componentType + ".schema.json"
}

// merged is what the schema says about one key, from all its declarations.
type merged struct {
	name       string
	typ        string
	enum       []string
	hasEnum    bool // every declaration lists allowed values
	def        string
	defQuoted  bool
	sensitive  bool
	deprecated bool
	required   bool // required in the base metadata
	// From the Go source: the key that replaces a deprecated one, values
	// compared in any letter case, and what Dapr does with other values.
	replacedBy  string
	caseless    bool
	otherValues string
}

func pubsubSchema(src Source, c Component) (*object, error) {
	var order []string
	keys := map[string]*merged{}
	// byLower finds a key in any letter case: Dapr matches keys so.
	byLower := map[string]*merged{}
	add := func(k Key, base bool) {
		m, ok := keys[k.Name]
		if !ok {
			m = &merged{name: k.Name, hasEnum: true}
			keys[k.Name] = m
			if _, dup := byLower[strings.ToLower(k.Name)]; !dup {
				byLower[strings.ToLower(k.Name)] = m
			}
			order = append(order, k.Name)
		}
		if m.typ == "" {
			m.typ = k.Type
		}
		if len(k.AllowedValues) == 0 {
			m.hasEnum = false
		}
		for _, v := range k.AllowedValues {
			if !slices.Contains(m.enum, v) {
				m.enum = append(m.enum, v)
			}
		}
		if m.def == "" && k.Default != "" {
			m.def, m.defQuoted = unquote(k.Default)
		}
		m.sensitive = m.sensitive || k.Sensitive
		m.deprecated = m.deprecated || k.Deprecated
		if base && k.Required && !notRequired[k.Name] {
			m.required = true
		}
	}
	for _, k := range c.Metadata {
		add(k, true)
	}
	for _, p := range c.AuthenticationProfiles {
		for _, k := range p.Metadata {
			add(k, false)
		}
	}
	for _, n := range RuntimeKeys {
		if _, ok := byLower[strings.ToLower(n)]; !ok {
			add(Key{Name: n, Type: "string"}, false)
		}
	}
	if c.Source != nil {
		for _, sk := range c.Source.Keys {
			mergeSource(sk, byLower, add)
		}
	}
	// A deprecated key whose value Dapr uses as a sensitive key's (rabbitmq's
	// host is its connectionString) is as sensitive.
	for _, n := range order {
		if m := keys[n]; m.deprecated && m.replacedBy != "" {
			if r, ok := byLower[strings.ToLower(m.replacedBy)]; ok && r.sensitive {
				m.sensitive = true
			}
		}
	}

	props := obj()
	patterns := obj()
	usedDefs := map[string]bool{}
	var required, sensitive, deprecated []string
	replacedBy := obj()
	for _, n := range order {
		m := keys[n]
		p, err := property(m, usedDefs)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(n, "<>") {
			patterns.set(namePattern(n), p)
		} else {
			props.set(n, p)
		}
		if m.required {
			required = append(required, n)
		}
		if m.sensitive {
			sensitive = append(sensitive, n)
		}
		if m.deprecated {
			deprecated = append(deprecated, n)
			if m.replacedBy != "" {
				replacedBy.set(n, m.replacedBy)
			}
		}
	}

	profiles := []any{}
	for _, ap := range c.AuthenticationProfiles {
		preq, pkeys := []string{}, []string{}
		for _, k := range ap.Metadata {
			pkeys = append(pkeys, k.Name)
			if k.Required && !notRequired[k.Name] {
				preq = append(preq, k.Name)
			}
		}
		po := obj("title", ap.Title)
		if ap.Builtin != "" {
			po.set("builtin", ap.Builtin)
		}
		profiles = append(profiles, po.set("required", preq).set("keys", pkeys))
	}

	title := c.Type
	if c.Title != "" {
		title += " (" + c.Title + ")"
	}
	from := src.Project + " " + src.Version
	if c.Source != nil && src.GoVersion != "" {
		from += " and its Go source " + src.GoVersion
	}
	s := obj(
		"$schema", draft,
		"$id", BaseURL+PubsubPath(c.Type),
		"title", "Dapr "+c.Type+" metadata",
		"description", fmt.Sprintf("spec.metadata of a Dapr Component of type %s %s, as an object of key to string value. "+
			"Generated by hack/schemagen from %s (%s); do not edit, run `make schemas`.", title, c.Version, from, src.License),
		"type", "object",
	)
	if len(required) > 0 {
		s.set("required", required)
	}
	s.set("properties", props)
	if len(patterns.keys) > 0 {
		s.set("patternProperties", patterns)
	}
	s.set("additionalProperties", false)
	defs := obj()
	for _, d := range typeDefs {
		if usedDefs[d.name] {
			defs.set(d.name, obj("description", d.description, "type", "string", "pattern", d.pattern))
		}
	}
	if len(defs.keys) > 0 {
		s.set("$defs", defs)
	}
	info := obj(
		"type", c.Type,
		"version", c.Version,
		"status", c.Status,
		"source", src.Project+" "+src.Version+" "+c.From,
	)
	if c.Source != nil && src.GoVersion != "" {
		info.set("goSource", src.GoModule+" "+src.GoVersion+" "+c.Source.Dir)
	}
	info.set("license", src.License).
		set("sensitive", orEmpty(sensitive)).
		set("deprecated", orEmpty(deprecated)).
		set("replacedBy", replacedBy).
		set("runtimeKeys", RuntimeKeys).
		set("authenticationProfiles", profiles)
	s.set("x-dapr", info)
	return s, nil
}

// mergeSource adds what the Go source says about a key: a key that
// metadata.yaml lacks is added with the Go type; a deprecation and its
// replacement are kept; the values the source compares with are added to
// metadata.yaml's (the code accepts them), unless metadata.yaml types the
// key as something other than a string.
// containsFold says whether list holds s, in any letter case with fold.
func containsFold(list []string, s string, fold bool) bool {
	return slices.ContainsFunc(list, func(v string) bool { return v == s || fold && strings.EqualFold(v, s) })
}

func mergeSource(sk gosource.Key, byLower map[string]*merged, add func(Key, bool)) {
	m, ok := byLower[strings.ToLower(sk.Name)]
	if !ok {
		add(Key{Name: sk.Name, Type: sk.Type}, false)
		m = byLower[strings.ToLower(sk.Name)]
		m.hasEnum = false
	}
	if sk.Deprecated {
		m.deprecated = true
		if m.replacedBy == "" && sk.ReplacedBy != "" {
			m.replacedBy = sk.ReplacedBy
			if r, ok := byLower[strings.ToLower(sk.ReplacedBy)]; ok {
				m.replacedBy = r.name
			}
		}
	}
	if len(sk.AllowedValues) == 0 || m.typ != "" && m.typ != "string" {
		return
	}
	if !m.hasEnum {
		m.enum = nil
	}
	m.hasEnum = true
	m.caseless = m.caseless || sk.CaseInsensitive
	for _, v := range sk.AllowedValues {
		if !containsFold(m.enum, v, m.caseless) {
			m.enum = append(m.enum, v)
		}
	}
	if m.otherValues == "" || sk.OtherValues == "error" {
		m.otherValues = sk.OtherValues
	}
}

func property(m *merged, usedDefs map[string]bool) (*object, error) {
	p := obj()
	var check func(string) bool
	switch {
	case m.hasEnum && len(m.enum) > 0 && m.caseless:
		// Compared in any letter case: a pattern, with the values listed.
		alts := make([]string, len(m.enum))
		for i, v := range m.enum {
			alts[i] = caselessPattern(v)
		}
		p.set("type", "string").set("pattern", "^(?:"+strings.Join(alts, "|")+")$").
			set("x-allowedValues", m.enum).set("x-caseInsensitive", true)
		check = func(v string) bool { return containsFold(m.enum, v, true) }
	case m.hasEnum && len(m.enum) > 0:
		p.set("type", "string").set("enum", m.enum)
		check = func(v string) bool { return slices.Contains(m.enum, v) }
	case m.typ == "" || m.typ == "string":
		p.set("type", "string")
		check = func(string) bool { return m.defQuoted }
	default:
		i := slices.IndexFunc(typeDefs, func(d struct{ name, pattern, description string }) bool { return d.name == m.typ })
		if i < 0 {
			return nil, fmt.Errorf("key %s: unknown type %q", m.name, m.typ)
		}
		usedDefs[m.typ] = true
		p.set("$ref", "#/$defs/"+m.typ)
		re := regexp.MustCompile(typeDefs[i].pattern)
		check = re.MatchString
	}
	if m.def != "" && check(m.def) {
		p.set("default", m.def)
	}
	if m.otherValues != "" && m.hasEnum && len(m.enum) > 0 {
		p.set("x-otherValues", m.otherValues)
	}
	if m.deprecated {
		p.set("deprecated", true)
		if m.replacedBy != "" {
			p.set("x-replacedBy", m.replacedBy)
		}
	}
	return p, nil
}

// caselessPattern matches value in any letter case: each letter a class
// of its two cases, other characters quoted.
func caselessPattern(value string) string {
	var sb strings.Builder
	for _, r := range value {
		up, lo := strings.ToUpper(string(r)), strings.ToLower(string(r))
		if up == lo {
			sb.WriteString(regexp.QuoteMeta(string(r)))
		} else {
			sb.WriteString("[" + up + lo + "]")
		}
	}
	return sb.String()
}

// unquote strips one pair of double quotes: metadata.yaml writes string
// defaults quoted. It reports whether the value was quoted.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.Contains(s[1:len(s)-1], `"`) {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// namePattern turns a templated key such as "<topic-name>.avroschema" into
// an anchored pattern: each <...> part matches one or more characters.
func namePattern(name string) string {
	var sb strings.Builder
	sb.WriteString("^")
	for name != "" {
		i := strings.IndexByte(name, '<')
		if i < 0 {
			sb.WriteString(regexp.QuoteMeta(name))
			break
		}
		sb.WriteString(regexp.QuoteMeta(name[:i]))
		j := strings.IndexByte(name[i:], '>')
		if j < 0 {
			sb.WriteString(regexp.QuoteMeta(name[i:]))
			break
		}
		sb.WriteString(".+")
		name = name[i+j+1:]
	}
	sb.WriteString("$")
	return sb.String()
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Files lists the paths Generate produces for f, sorted.
func Files(f *Facts) []string {
	out := []string{"component.schema.json"}
	for _, d := range Drivers() {
		out = append(out, DriverPath(d.Name))
	}
	for _, c := range f.Components {
		out = append(out, PubsubPath(c.Type))
	}
	sort.Strings(out)
	return out
}
