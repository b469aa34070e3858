package gosource

import (
	"fmt"
	"go/ast"
	"slices"
	"sort"
	"strings"
)

// Info is what a pubsub component's Go source in components-contrib
// reads from its metadata, found by Keys.
type Info struct {
	// Dir is the component's package, relative to the components-contrib
	// root, for example "pubsub/rabbitmq".
	Dir  string `json:"dir"`
	Keys []Key  `json:"keys"`
}

// Key is one metadata key that the source reads.
type Key struct {
	Name string `json:"name"`
	// Type is bool, number, duration or bytesize from the Go type of the
	// field the key decodes into; empty for strings and anything else.
	Type string `json:"type,omitempty"`
	// Deprecated keys are still read, for compatibility: the source logs a
	// deprecation notice, or declares the key an alias of ReplacedBy.
	Deprecated bool   `json:"deprecated,omitempty"`
	ReplacedBy string `json:"replacedBy,omitempty"`
	// AllowedValues are the fixed strings the source compares the value
	// with (a switch, an if chain or a predicate); CaseInsensitive when it
	// compares in any letter case.
	AllowedValues   []string `json:"allowedValues,omitempty"`
	CaseInsensitive bool     `json:"caseInsensitive,omitempty"`
	// OtherValues says what Dapr does with another value: "error" (the
	// component fails to initialise) or "ignored" (it silently behaves as
	// for the default).
	OtherValues string `json:"otherValues,omitempty"`
	// From is where the key is read (file:line, relative to the root);
	// ValuesFrom where the values are compared.
	From       string `json:"from"`
	ValuesFrom string `json:"valuesFrom,omitempty"`
}

// Go packages and functions the analysis knows by their import path.
const (
	kitMetadata     = "github.com/dapr/kit/metadata"
	kitConfig       = "github.com/dapr/kit/config"
	contribMetadata = "github.com/dapr/components-contrib/metadata"
	contribPubsub   = "github.com/dapr/components-contrib/pubsub"
)

// Keys finds the metadata keys that the package in dir (relative to
// the module root of tree) reads, following the component's metadata map
// (the Properties of its metadata) through the functions of the module it
// is passed to. A key is read when it indexes the map, is looked up with
// GetMetadataProperty or GetProperty, is compared with the keys of a range
// over the map, or is the mapstructure name of a field of a struct the map
// is decoded into (following components-contrib's own metadata analyser:
// mdonly, squash; aliases of kit's DecodeMetadata, mddeprecated). Values
// are enumerated where the key's value is switched on or compared with
// constants; deprecated keys where an if statement that reads them logs a
// deprecation notice (the key it writes instead is the replacement).
func Keys(t *Tree, dir string) ([]Key, error) {
	p := t.pkgRel(dir)
	if p == nil || len(p.files) == 0 {
		return nil, fmt.Errorf("no Go package in %s", dir)
	}
	first := newKeyAnalysis(t, nil)
	first.run(p)
	// Second pass: with every decoded field known from the start, so that
	// comparisons seen before the decode call count too.
	a := newKeyAnalysis(t, first.fields)
	a.run(p)
	return a.result(), nil
}

type keyAnalysis struct {
	tree *Tree
	// keys by lower-case name
	keys map[string]*foundKey
	// fields maps a decoded struct's Go field name to its key (lower case)
	fields   map[string]string
	defaults map[string][]string
	enums    map[string]*foundEnum
	deps     []deprecation
	seen     map[string]bool
	queue    []*visit
	// opened packages have all their functions queued
	opened map[*goPkg]bool
}

type foundKey struct {
	name, typ, from string
	deprecated      bool
	replacedBy      string
	// weak: the name is a Go field's (mapstructure matches it in any
	// case); any other spelling of the key is preferred.
	weak bool
}

type foundEnum struct {
	values             []string
	consts             []*goConst
	fold, closed, open bool
	from               string
}

type deprecation struct {
	cond, assigned []string
	msg            string
	from           string
}

type visit struct {
	fn      *goFunc
	tainted map[int]bool
	meta    map[int]bool
	bound   map[int]binding
	consts  map[int]string
}

// binding is a value read from one of keys (fold: compared in any case).
type binding struct {
	keys []string
	fold bool
}

func newKeyAnalysis(t *Tree, fields map[string]string) *keyAnalysis {
	a := &keyAnalysis{tree: t, keys: map[string]*foundKey{}, fields: map[string]string{}, defaults: map[string][]string{},
		enums: map[string]*foundEnum{}, seen: map[string]bool{}, opened: map[*goPkg]bool{}}
	for k, v := range fields {
		a.fields[k] = v
	}
	return a
}

// maxVisits bounds the analysis of one component.
const maxVisits = 20000

func (a *keyAnalysis) run(p *goPkg) {
	a.open(p)
	for n := 0; len(a.queue) > 0 && n < maxVisits; n++ {
		v := a.queue[0]
		a.queue = a.queue[1:]
		a.open(v.fn.file.pkg)
		a.analyze(v)
	}
}

// open queues every function of a package the metadata reaches: their
// comparisons of decoded fields with constants count, wherever they are.
func (a *keyAnalysis) open(p *goPkg) {
	if a.opened[p] {
		return
	}
	a.opened[p] = true
	for _, f := range p.files {
		for _, d := range f.ast.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				a.enqueue(&visit{fn: &goFunc{file: f, decl: fd}})
			}
		}
	}
}

func (a *keyAnalysis) enqueue(v *visit) {
	id := fmt.Sprintf("%s:%d|%v|%v|%v|%v", v.fn.file.rel, v.fn.decl.Pos(), v.tainted, v.meta, v.bound, v.consts)
	if a.seen[id] {
		return
	}
	a.seen[id] = true
	a.queue = append(a.queue, v)
}

func (a *keyAnalysis) addKey(name, typ, from string) *foundKey {
	return a.addKeyWeak(name, typ, from, false)
}

func (a *keyAnalysis) addKeyWeak(name, typ, from string, weak bool) *foundKey {
	lk := strings.ToLower(name)
	k, ok := a.keys[lk]
	if !ok {
		k = &foundKey{name: name, typ: typ, from: from, weak: weak}
		a.keys[lk] = k
		return k
	}
	if k.typ == "" {
		k.typ = typ
	}
	if k.weak && !weak || k.weak == weak && from < k.from {
		k.name, k.weak = name, weak
	}
	if from < k.from {
		k.from = from
	}
	return k
}

func (a *keyAnalysis) addEnum(b binding, vals []string, consts []*goConst, closed, open bool, from string) {
	for _, key := range b.keys {
		lk := strings.ToLower(key)
		en, ok := a.enums[lk]
		if !ok {
			en = &foundEnum{from: from}
			a.enums[lk] = en
		}
		if from < en.from {
			en.from = from
		}
		en.fold = en.fold || b.fold
		en.closed = en.closed || closed
		en.open = en.open || open
		for _, v := range vals {
			if !containsFold(en.values, v, false) {
				en.values = append(en.values, v)
			}
		}
		en.consts = append(en.consts, consts...)
	}
}

func containsFold(list []string, s string, fold bool) bool {
	return slices.ContainsFunc(list, func(v string) bool { return v == s || fold && strings.EqualFold(v, s) })
}

// result renders the keys, sorted by name.
func (a *keyAnalysis) result() []Key {
	a.resolveDeprecations()
	names := make([]string, 0, len(a.keys))
	for lk := range a.keys {
		names = append(names, lk)
	}
	sort.Strings(names)
	out := make([]Key, 0, len(names))
	for _, lk := range names {
		k := a.keys[lk]
		sk := Key{Name: k.name, Type: k.typ, Deprecated: k.deprecated, ReplacedBy: k.replacedBy, From: k.from}
		if en := a.enums[lk]; en != nil && !en.open && len(en.values) > 0 && (k.typ == "" || k.typ == "string") {
			vals := append([]string(nil), en.values...)
			if !en.closed {
				// Other values behave as the default: the default and
				// the constants of the same kind are valid too.
				var extra []string
				for field, key := range a.fields {
					if key == lk {
						extra = append(extra, a.defaults[field]...)
					}
				}
				for _, c := range en.consts {
					extra = append(extra, c.siblings()...)
				}
				sort.Strings(extra)
				for _, v := range extra {
					if v != "" && !containsFold(vals, v, en.fold) {
						vals = append(vals, v)
					}
				}
			}
			sk.AllowedValues, sk.CaseInsensitive, sk.ValuesFrom = vals, en.fold, en.from
			sk.OtherValues = "ignored"
			if en.closed {
				sk.OtherValues = "error"
			}
		}
		out = append(out, sk)
	}
	return out
}
