package schemagen

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// SourceInfo is what a pubsub component's Go source in components-contrib
// reads from its metadata, found by SourceKeys.
type SourceInfo struct {
	// Dir is the component's package, relative to the components-contrib
	// root, for example "pubsub/rabbitmq".
	Dir  string      `json:"dir"`
	Keys []SourceKey `json:"keys"`
}

// SourceKey is one metadata key that the source reads.
type SourceKey struct {
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

// SourceKeys finds the metadata keys that the package in dir (relative to
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
func SourceKeys(t *goTree, dir string) ([]SourceKey, error) {
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
	tree *goTree
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

func newKeyAnalysis(t *goTree, fields map[string]string) *keyAnalysis {
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
func (a *keyAnalysis) result() []SourceKey {
	a.resolveDeprecations()
	names := make([]string, 0, len(a.keys))
	for lk := range a.keys {
		names = append(names, lk)
	}
	sort.Strings(names)
	out := make([]SourceKey, 0, len(names))
	for _, lk := range names {
		k := a.keys[lk]
		sk := SourceKey{Name: k.name, Type: k.typ, Deprecated: k.deprecated, ReplacedBy: k.replacedBy, From: k.from}
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

// resolveDeprecations turns the if statements that log a deprecation
// notice into deprecated keys: the key the condition reads and the body
// does not write is deprecated; the key the body writes (or the one other
// known key the notice names) replaces it.
func (a *keyAnalysis) resolveDeprecations() {
	for _, d := range a.deps {
		var dep []string
		for _, k := range d.cond {
			if !containsFold(d.assigned, k, true) && !containsFold(dep, k, true) {
				dep = append(dep, k)
			}
		}
		if len(dep) > 1 {
			var named []string
			for _, k := range dep {
				if mentions(d.msg, k) {
					named = append(named, k)
				}
			}
			dep = named
		}
		if len(dep) != 1 {
			continue
		}
		repl := ""
		var assigned []string
		for _, k := range d.assigned {
			if !containsFold(assigned, k, true) {
				assigned = append(assigned, k)
			}
		}
		if len(assigned) == 1 {
			repl = assigned[0]
		} else {
			var named []string
			for lk, k := range a.keys {
				if lk != strings.ToLower(dep[0]) && mentions(d.msg, k.name) {
					named = append(named, k.name)
				}
			}
			if len(named) == 1 {
				repl = named[0]
			}
		}
		k := a.addKey(dep[0], "", d.from)
		k.deprecated = true
		if repl != "" {
			if rk, ok := a.keys[strings.ToLower(repl)]; ok {
				repl = rk.name
			}
			k.replacedBy = repl
		}
	}
}

// mentions says whether msg names key as a word, in any letter case.
func mentions(msg, key string) bool {
	words := strings.FieldsFunc(msg, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	for _, w := range words {
		if strings.EqualFold(w, key) {
			return true
		}
	}
	return false
}

// env is what the analysis knows inside one function.
type env struct {
	a *keyAnalysis
	f *goFile
	// tainted variables hold the metadata map; meta ones a struct holding
	// it (pubsub.Metadata, metadata.Base).
	tainted, meta map[string]bool
	bound         map[string]binding
	// keyVars hold a key's name; rangeKeys are the keys of a range over
	// the metadata map.
	keyVars   map[string][]string
	rangeKeys map[string]bool
	consts    map[string]string
	types     map[string]ast.Expr
	writes    map[ast.Expr]bool
}

func (a *keyAnalysis) analyze(v *visit) {
	fd := v.fn.decl
	e := &env{a: a, f: v.fn.file, tainted: map[string]bool{}, meta: map[string]bool{}, bound: map[string]binding{},
		keyVars: map[string][]string{}, rangeKeys: map[string]bool{}, consts: map[string]string{}, types: map[string]ast.Expr{},
		writes: map[ast.Expr]bool{}}
	if fd.Recv != nil {
		for _, fl := range fd.Recv.List {
			for _, n := range fl.Names {
				e.types[n.Name] = fl.Type
			}
		}
	}
	i := 0
	for _, fl := range fd.Type.Params.List {
		names := fl.Names
		if len(names) == 0 {
			i++
			continue
		}
		for _, n := range names {
			e.types[n.Name] = fl.Type
			if v.tainted[i] {
				e.tainted[n.Name] = true
			}
			if v.meta[i] || isMetaType(e.f, fl.Type) {
				e.meta[n.Name] = true
			}
			if b, ok := v.bound[i]; ok {
				e.bound[n.Name] = b
			}
			if c, ok := v.consts[i]; ok {
				e.consts[n.Name] = c
			}
			i++
		}
	}
	if fd.Body != nil {
		ast.Inspect(fd.Body, e.node)
	}
}

// isMetaType: pubsub.Metadata or metadata.Base (pointers too).
func isMetaType(f *goFile, t ast.Expr) bool {
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch t := t.(type) {
	case *ast.SelectorExpr:
		ip, ok := f.importOf(t.X)
		return ok && (ip == contribPubsub && t.Sel.Name == "Metadata" || ip == contribMetadata && t.Sel.Name == "Base")
	case *ast.Ident:
		return f.pkg.path == contribPubsub && t.Name == "Metadata" || f.pkg.path == contribMetadata && t.Name == "Base"
	}
	return false
}

func unparen(x ast.Expr) ast.Expr {
	for {
		p, ok := x.(*ast.ParenExpr)
		if !ok {
			return x
		}
		x = p.X
	}
}

func (e *env) isTainted(x ast.Expr) bool {
	switch x := unparen(x).(type) {
	case *ast.SelectorExpr:
		return x.Sel.Name == "Properties"
	case *ast.Ident:
		return e.tainted[x.Name]
	case *ast.StarExpr:
		return e.isTainted(x.X)
	case *ast.UnaryExpr:
		return x.Op == token.AND && e.isTainted(x.X)
	}
	return false
}

func (e *env) isMeta(x ast.Expr) bool {
	switch x := unparen(x).(type) {
	case *ast.Ident:
		return e.meta[x.Name]
	case *ast.UnaryExpr:
		return x.Op == token.AND && e.isMeta(x.X)
	case *ast.StarExpr:
		return e.isMeta(x.X)
	}
	return false
}

// str evaluates a constant string, also a parameter bound to one, and
// strings.ToLower of one (keys are compared in any case anyway).
func (e *env) str(x ast.Expr) (string, bool) {
	x = unparen(x)
	if id, ok := x.(*ast.Ident); ok {
		if c, ok := e.consts[id.Name]; ok {
			return c, true
		}
	}
	if c, ok := x.(*ast.CallExpr); ok && e.isStringsCall(c, "ToLower", "ToUpper", "TrimSpace") && len(c.Args) == 1 {
		return e.str(c.Args[0])
	}
	return e.f.constString(x)
}

func (e *env) isStringsCall(c *ast.CallExpr, names ...string) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	ip, ok := e.f.importOf(sel.X)
	if !ok || ip != "strings" {
		return false
	}
	for _, n := range names {
		if sel.Sel.Name == n {
			return true
		}
	}
	return false
}

// pkgCall returns the import path and name of a call of a package's
// function.
func (e *env) pkgCall(c *ast.CallExpr) (ip, name string, ok bool) {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", "", false
	}
	ip, ok = e.f.importOf(sel.X)
	return ip, sel.Sel.Name, ok
}

// lookupKeys returns the constant keys of a metadata lookup call
// (GetMetadataProperty, GetMetadataPropertyWithMatchedKey, GetProperty).
func (e *env) lookupKeys(c *ast.CallExpr) ([]string, bool) {
	var args []ast.Expr
	if ip, name, ok := e.pkgCall(c); ok {
		if (ip == kitMetadata || ip == contribMetadata) && (name == "GetMetadataProperty" || name == "GetMetadataPropertyWithMatchedKey") &&
			len(c.Args) >= 2 && e.isTainted(c.Args[0]) {
			args = c.Args[1:]
		}
	} else if sel, ok := c.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "GetProperty" || sel.Sel.Name == "GetPropertyWithMatchedKey") &&
		(e.isMeta(sel.X) || e.isTainted(sel.X)) {
		args = c.Args
	}
	if args == nil {
		return nil, false
	}
	var keys []string
	for _, arg := range args {
		if k, ok := e.str(arg); ok && k != "" {
			keys = append(keys, k)
		}
	}
	return keys, len(keys) > 0
}

// binding says which keys' value x is.
func (e *env) binding(x ast.Expr) (binding, bool) {
	switch x := unparen(x).(type) {
	case *ast.IndexExpr:
		if e.isTainted(x.X) {
			if k, ok := e.str(x.Index); ok {
				return binding{keys: []string{k}}, true
			}
		}
	case *ast.Ident:
		b, ok := e.bound[x.Name]
		return b, ok
	case *ast.CallExpr:
		if e.isStringsCall(x, "ToLower", "ToUpper", "TrimSpace") && len(x.Args) == 1 {
			b, ok := e.binding(x.Args[0])
			if ok && !e.isStringsCall(x, "TrimSpace") {
				b.fold = true
			}
			return b, ok
		}
		if keys, ok := e.lookupKeys(x); ok {
			return binding{keys: keys}, true
		}
	case *ast.SelectorExpr:
		if _, isPkg := e.f.importOf(x.X); isPkg || !ast.IsExported(x.Sel.Name) {
			return binding{}, false
		}
		if lk, ok := e.a.fields[x.Sel.Name]; ok {
			name := lk
			if k := e.a.keys[lk]; k != nil {
				name = k.name
			}
			return binding{keys: []string{name}}, true
		}
	}
	return binding{}, false
}

func (e *env) isRangeKey(x ast.Expr) bool {
	x = unparen(x)
	if c, ok := x.(*ast.CallExpr); ok && e.isStringsCall(c, "ToLower", "ToUpper", "TrimSpace") && len(c.Args) == 1 {
		return e.isRangeKey(c.Args[0])
	}
	id, ok := x.(*ast.Ident)
	return ok && e.rangeKeys[id.Name]
}

func (e *env) node(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.AssignStmt:
		e.assign(n.Lhs, n.Rhs)
	case *ast.ValueSpec:
		lhs := make([]ast.Expr, len(n.Names))
		for i, id := range n.Names {
			lhs[i] = id
			if n.Type != nil {
				e.types[id.Name] = n.Type
			}
		}
		e.assign(lhs, n.Values)
	case *ast.RangeStmt:
		if e.isTainted(n.X) {
			if id, ok := n.Key.(*ast.Ident); ok {
				e.rangeKeys[id.Name] = true
			}
		}
	case *ast.IndexExpr:
		if !e.writes[n] && e.isTainted(n.X) {
			if k, ok := e.str(n.Index); ok && k != "" {
				e.a.addKey(k, "", e.f.pos(n))
			}
		}
	case *ast.CallExpr:
		e.call(n)
	case *ast.SwitchStmt:
		if e.constSwitch(n) {
			return false
		}
		e.switchStmt(n)
	case *ast.IfStmt:
		e.ifStmt(n)
	case *ast.BinaryExpr:
		if n.Op == token.EQL || n.Op == token.NEQ {
			e.compare(n.X, n.Y, false, n)
		}
	}
	return true
}

func (e *env) assign(lhs, rhs []ast.Expr) {
	for _, l := range lhs {
		if ix, ok := l.(*ast.IndexExpr); ok {
			e.writes[ix] = true
		}
	}
	if len(rhs) == 1 && len(lhs) > 1 {
		r := unparen(rhs[0])
		var keys []string
		withKey := false
		switch r := r.(type) {
		case *ast.IndexExpr:
			if b, ok := e.binding(r); ok {
				keys = b.keys
			}
		case *ast.CallExpr:
			if k, ok := e.lookupKeys(r); ok {
				keys = k
				if _, name, ok := e.pkgCall(r); ok && strings.HasSuffix(name, "WithMatchedKey") {
					withKey = true
				} else if sel, ok := r.Fun.(*ast.SelectorExpr); ok && strings.HasSuffix(sel.Sel.Name, "WithMatchedKey") {
					withKey = true
				}
			}
		}
		if c, ok := r.(*ast.CallExpr); ok && keys == nil && e.returnsMetadata(c) {
			if id, ok := lhs[0].(*ast.Ident); ok && id.Name != "_" {
				e.tainted[id.Name] = true
			}
		}
		if keys != nil {
			vals := lhs
			if withKey {
				if id, ok := lhs[0].(*ast.Ident); ok {
					e.keyVars[id.Name] = append(e.keyVars[id.Name], keys...)
				}
				vals = lhs[1:]
			}
			for _, l := range vals {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					e.bound[id.Name] = binding{keys: keys}
				}
			}
		}
		return
	}
	if len(lhs) != len(rhs) {
		return
	}
	for i, l := range lhs {
		r := unparen(rhs[i])
		if lit := compositeLit(r); lit != nil {
			e.literalDefaults(lit)
		}
		id, ok := l.(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		if e.isTainted(r) {
			e.tainted[id.Name] = true
		}
		if c, ok := r.(*ast.CallExpr); ok && e.returnsMetadata(c) {
			e.tainted[id.Name] = true
		}
		if e.isMeta(r) {
			e.meta[id.Name] = true
		}
		if e.isRangeKey(r) {
			e.rangeKeys[id.Name] = true
		}
		if b, ok := e.binding(r); ok {
			e.bound[id.Name] = b
		}
		if _, ok := e.keyVars[id.Name]; ok {
			if s, ok := e.str(r); ok && s != "" {
				e.keyVars[id.Name] = append(e.keyVars[id.Name], s)
			}
		}
		if _, ok := e.consts[id.Name]; ok {
			if s, ok := e.str(r); ok {
				e.consts[id.Name] = s
			} else {
				delete(e.consts, id.Name)
			}
		}
		if lit := compositeLit(r); lit != nil && lit.Type != nil {
			e.types[id.Name] = lit.Type
		}
		if c, ok := r.(*ast.CallExpr); ok {
			if fn, ok := c.Fun.(*ast.Ident); ok && fn.Name == "new" && len(c.Args) == 1 {
				e.types[id.Name] = c.Args[0]
			}
		}
	}
}

func compositeLit(x ast.Expr) *ast.CompositeLit {
	x = unparen(x)
	if u, ok := x.(*ast.UnaryExpr); ok && u.Op == token.AND {
		x = unparen(u.X)
	}
	lit, _ := x.(*ast.CompositeLit)
	return lit
}

// literalDefaults records the constant string values a composite literal
// gives to fields: the defaults before the metadata is decoded.
func (e *env) literalDefaults(lit *ast.CompositeLit) {
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		id, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		if s, ok := e.str(kv.Value); ok && s != "" {
			e.a.defaults[id.Name] = append(e.a.defaults[id.Name], s)
		}
	}
}

func (e *env) call(c *ast.CallExpr) {
	if keys, ok := e.lookupKeys(c); ok {
		for _, k := range keys {
			e.a.addKey(k, "", e.f.pos(c))
		}
		return
	}
	if e.isStringsCall(c, "EqualFold") && len(c.Args) == 2 {
		e.compare(c.Args[0], c.Args[1], true, c)
		return
	}
	if fn, ok := c.Fun.(*ast.SelectorExpr); ok {
		ip, isPkg := e.f.importOf(fn.X)
		switch {
		case isPkg && ip == kitMetadata && fn.Sel.Name == "DecodeMetadata" && len(c.Args) == 2:
			if e.isTainted(c.Args[0]) {
				e.decodeInto(c.Args[1], true)
			}
			return
		case isPkg && ip == kitConfig && fn.Sel.Name == "Decode" && len(c.Args) == 2:
			if e.isTainted(c.Args[0]) {
				e.decodeInto(c.Args[1], false)
			}
			return
		case !isPkg && fn.Sel.Name == "Decode" && len(c.Args) == 1 && e.isTainted(fn.X):
			// kit's metadata.Properties.Decode is DecodeMetadata.
			e.decodeInto(c.Args[0], true)
			return
		}
	}
	cands := e.callees(c)
	if len(cands) == 0 {
		return
	}
	v := &visit{tainted: map[int]bool{}, meta: map[int]bool{}, bound: map[int]binding{}, consts: map[int]string{}}
	useful := false
	for i, arg := range c.Args {
		if e.isTainted(arg) {
			v.tainted[i], useful = true, true
		}
		if e.isMeta(arg) {
			v.meta[i], useful = true, true
		}
		if b, ok := e.binding(arg); ok {
			v.bound[i], useful = b, true
		}
		if s, ok := e.str(arg); ok {
			v.consts[i] = s
		}
	}
	if !useful {
		return
	}
	for _, fn := range cands {
		nv := *v
		nv.fn = fn
		e.a.enqueue(&nv)
	}
}

// callees resolves a call to the functions of the module it may call: a
// function of the package or of an imported package of the module, or any
// method of that name in the package and in the module's packages the file
// imports.
func (e *env) callees(c *ast.CallExpr) []*goFunc {
	var cands []*goFunc
	switch fn := c.Fun.(type) {
	case *ast.Ident:
		cands = e.f.pkg.funcs[fn.Name]
	case *ast.SelectorExpr:
		if ip, ok := e.f.importOf(fn.X); ok {
			if p := e.inModule(ip); p != nil {
				cands = p.funcs[fn.Sel.Name]
			}
			break
		}
		cands = append(cands, e.f.pkg.methods[fn.Sel.Name]...)
		for _, ip := range sortedImports(e.f) {
			if p := e.inModule(ip); p != nil && p != e.f.pkg {
				cands = append(cands, p.methods[fn.Sel.Name]...)
			}
		}
	}
	return cands
}

// returnsMetadata: the call passes the metadata map to a function that
// returns a map[string]string first (an upgraded copy of it).
func (e *env) returnsMetadata(c *ast.CallExpr) bool {
	tainted := false
	for _, arg := range c.Args {
		tainted = tainted || e.isTainted(arg)
	}
	if !tainted {
		return false
	}
	for _, fn := range e.callees(c) {
		res := fn.decl.Type.Results
		if res != nil && len(res.List) > 0 && exprString(res.List[0].Type) == "map[string]string" {
			return true
		}
	}
	return false
}

func sortedImports(f *goFile) []string {
	out := make([]string, 0, len(f.imports))
	for _, ip := range f.imports {
		out = append(out, ip)
	}
	sort.Strings(out)
	return out
}

// inModule loads an imported package of the analysed module.
func (e *env) inModule(ip string) *goPkg {
	t := e.f.pkg.tree
	if ip != t.mod && !strings.HasPrefix(ip, t.mod+"/") {
		return nil
	}
	return t.pkg(ip)
}

// decodeInto records the fields of the struct the metadata is decoded into.
func (e *env) decodeInto(target ast.Expr, aliases bool) {
	target = unparen(target)
	if u, ok := target.(*ast.UnaryExpr); ok && u.Op == token.AND {
		target = unparen(u.X)
	}
	var typ ast.Expr
	switch t := target.(type) {
	case *ast.Ident:
		typ = e.types[t.Name]
	case *ast.CompositeLit:
		typ = t.Type
	}
	if typ == nil {
		return
	}
	if gt := e.f.typeSpec(typ); gt != nil {
		e.a.flatten(gt, aliases, 0)
	}
}

// flatten records a struct's fields as keys, as mapstructure decodes them:
// the mapstructure tag's name (the field's name without one), squashed
// embedded structs inline, "-" and unexported fields skipped; fields whose
// mdonly tag does not name pubsub are not read by a pubsub component.
func (a *keyAnalysis) flatten(gt *goType, aliases bool, depth int) {
	if depth > 8 {
		return
	}
	st, ok := gt.spec.Type.(*ast.StructType)
	if !ok {
		if other := gt.file.typeSpec(gt.spec.Type); other != nil {
			a.flatten(other, aliases, depth+1)
		}
		return
	}
	for _, fl := range st.Fields.List {
		var tag reflect.StructTag
		if fl.Tag != nil {
			s, _ := strconv.Unquote(fl.Tag.Value)
			tag = reflect.StructTag(s)
		}
		ms := tag.Get("mapstructure")
		name, opts, _ := strings.Cut(ms, ",")
		if ms == "-" {
			continue
		}
		if only := tag.Get("mdonly"); only != "" && !containsFold(strings.Split(only, ","), "pubsub", false) {
			continue
		}
		if len(fl.Names) == 0 {
			if strings.Contains(opts, "squash") {
				if sub := gt.file.typeSpec(fl.Type); sub != nil {
					a.flatten(sub, aliases, depth+1)
				}
			}
			continue
		}
		for _, n := range fl.Names {
			if !n.IsExported() {
				continue
			}
			key := name
			if key == "" {
				key = n.Name
			}
			from := gt.file.pos(fl)
			k := a.addKeyWeak(key, goKeyType(gt.file, fl.Type, 0), from, name == "")
			if isTruthy(tag.Get("mddeprecated")) {
				k.deprecated = true
			}
			a.fields[n.Name] = strings.ToLower(key)
			if !aliases {
				continue
			}
			for _, al := range strings.Split(tag.Get("mapstructurealiases"), ",") {
				if al = strings.TrimSpace(al); al != "" {
					ak := a.addKey(al, "", from)
					ak.deprecated, ak.replacedBy = true, key
				}
			}
		}
	}
}

func isTruthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes", "true", "t", "on", "1":
		return true
	}
	return false
}

// goKeyType maps a field's Go type to the facts' value type.
func goKeyType(f *goFile, t ast.Expr, depth int) string {
	if depth > 8 {
		return ""
	}
	switch t := t.(type) {
	case *ast.StarExpr:
		return goKeyType(f, t.X, depth+1)
	case *ast.Ident:
		switch t.Name {
		case "bool":
			return "bool"
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "byte":
			return "number"
		case "string":
			return ""
		}
	case *ast.SelectorExpr:
		ip, _ := f.importOf(t.X)
		switch {
		case ip == "time" && t.Sel.Name == "Duration", ip == kitMetadata && t.Sel.Name == "Duration":
			return "duration"
		case ip == kitMetadata && t.Sel.Name == "ByteSize":
			return "bytesize"
		}
	default:
		return ""
	}
	if gt := f.typeSpec(t); gt != nil {
		if _, isStruct := gt.spec.Type.(*ast.StructType); !isStruct {
			return goKeyType(gt.file, gt.spec.Type, depth+1)
		}
	}
	return ""
}

// compare records x == y where x (or y) is a key's value and the other a
// constant: an allowed value, or, when not constant, a key whose values
// are open. Comparing the key of a range over the metadata with a
// constant reads that key.
func (e *env) compare(x, y ast.Expr, fold bool, at ast.Node) {
	for _, p := range [][2]ast.Expr{{x, y}, {y, x}} {
		if e.isRangeKey(p[0]) {
			if k, ok := e.str(p[1]); ok && k != "" {
				e.a.addKey(k, "", e.f.pos(at))
			}
			return
		}
		b, ok := e.binding(p[0])
		if !ok {
			continue
		}
		if _, other := e.binding(p[1]); other {
			return
		}
		b.fold = b.fold || fold
		v, ok := e.str(p[1])
		switch {
		case !ok:
			e.a.addEnum(b, nil, nil, false, true, e.f.pos(at))
		case v != "":
			var consts []*goConst
			if c := e.f.constOf(unparen(p[1])); c != nil {
				consts = append(consts, c)
			}
			e.a.addEnum(b, []string{v}, consts, false, false, e.f.pos(at))
		}
		return
	}
}

// constSwitch analyses only the taken case of a switch on a parameter bound
// to a constant (switch componentType { case metadata.PubSubType: ... }):
// keys read for state stores are not read by a pubsub component.
func (e *env) constSwitch(s *ast.SwitchStmt) bool {
	id, ok := unparen(s.Tag).(*ast.Ident)
	if !ok {
		return false
	}
	tag, ok := e.consts[id.Name]
	if !ok {
		return false
	}
	if s.Init != nil {
		ast.Inspect(s.Init, e.node)
	}
	var taken, def *ast.CaseClause
	for _, st := range s.Body.List {
		cc, ok := st.(*ast.CaseClause)
		if !ok {
			continue
		}
		if cc.List == nil {
			def = cc
		}
		for _, x := range cc.List {
			v, ok := e.str(x)
			if !ok {
				return false
			}
			if v == tag && taken == nil {
				taken = cc
			}
		}
	}
	if taken == nil {
		taken = def
	}
	if taken != nil {
		for _, st := range taken.Body {
			ast.Inspect(st, e.node)
		}
	}
	return true
}

func (e *env) switchStmt(s *ast.SwitchStmt) {
	if s.Tag == nil {
		return
	}
	if s.Init != nil {
		ast.Inspect(s.Init, e.node)
	}
	b, ok := e.binding(s.Tag)
	if !ok {
		return
	}
	var vals []string
	var consts []*goConst
	open, closed := false, false
	for _, st := range s.Body.List {
		cc, ok := st.(*ast.CaseClause)
		if !ok {
			continue
		}
		if cc.List == nil {
			closed = returnsError(cc.Body)
			continue
		}
		for _, x := range cc.List {
			v, ok := e.str(x)
			if !ok {
				open = true
				continue
			}
			if v != "" {
				vals = append(vals, v)
			}
			if c := e.f.constOf(unparen(x)); c != nil {
				consts = append(consts, c)
			}
		}
	}
	e.a.addEnum(b, vals, consts, closed, open, e.f.pos(s))
}

func (e *env) ifStmt(s *ast.IfStmt) {
	if s.Init != nil {
		ast.Inspect(s.Init, e.node)
	}
	// A deprecation notice logged directly in the body (not in a nested if).
	var msgs []string
	ast.Inspect(s.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.FuncLit:
			return false
		case *ast.CallExpr:
			for _, arg := range n.Args {
				if m, ok := e.str(arg); ok && strings.Contains(strings.ToLower(m), "deprecat") {
					msgs = append(msgs, m)
				}
			}
		}
		return true
	})
	if len(msgs) > 0 {
		var cond []string
		for _, part := range []ast.Node{s.Init, s.Cond} {
			if part != nil {
				cond = append(cond, e.keysIn(part)...)
			}
		}
		var assigned []string
		ast.Inspect(s.Body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for _, l := range as.Lhs {
				ix, ok := l.(*ast.IndexExpr)
				if !ok || !e.isTainted(ix.X) {
					continue
				}
				if k, ok := e.str(ix.Index); ok && k != "" {
					assigned = append(assigned, k)
				} else if id, ok := ix.Index.(*ast.Ident); ok {
					assigned = append(assigned, e.keyVars[id.Name]...)
				}
			}
			return true
		})
		e.a.deps = append(e.a.deps, deprecation{cond: cond, assigned: assigned, msg: strings.Join(msgs, " "), from: e.f.pos(s)})
	}
	// if x == A {...} else if x == B {...} else { return error }: A and B
	// are all x may be.
	if b, ok := e.ifChain(s); ok {
		e.a.addEnum(b, nil, nil, true, false, e.f.pos(s))
	}
	// if !valid(x) { return error }: valid's comparisons are all x may be.
	if u, ok := unparen(s.Cond).(*ast.UnaryExpr); ok && u.Op == token.NOT && s.Else == nil && returnsError(s.Body.List) {
		if c, ok := unparen(u.X).(*ast.CallExpr); ok && len(c.Args) == 1 {
			if b, ok := e.binding(c.Args[0]); ok {
				e.a.addEnum(b, nil, nil, true, false, e.f.pos(s))
			}
		}
	}
}

// ifChain: every condition compares the same key with a constant (== or
// strings.EqualFold) and the final else returns an error (also as a final
// else if x != "" { return error }).
func (e *env) ifChain(s *ast.IfStmt) (binding, bool) {
	var first *binding
	for {
		var x, y ast.Expr
		switch c := unparen(s.Cond).(type) {
		case *ast.BinaryExpr:
			if c.Op == token.NEQ && first != nil && s.Else == nil && returnsError(s.Body.List) {
				if v, ok := e.str(c.Y); ok && v == "" {
					if b, ok := e.binding(c.X); ok && strings.Join(first.keys, ",") == strings.Join(b.keys, ",") {
						return *first, true
					}
				}
			}
			if c.Op != token.EQL {
				return binding{}, false
			}
			x, y = c.X, c.Y
		case *ast.CallExpr:
			if !e.isStringsCall(c, "EqualFold") || len(c.Args) != 2 {
				return binding{}, false
			}
			x, y = c.Args[0], c.Args[1]
		default:
			return binding{}, false
		}
		b, ok := e.binding(x)
		if !ok {
			if b, ok = e.binding(y); !ok {
				return binding{}, false
			}
		}
		if first == nil {
			first = &b
		} else if strings.Join(first.keys, ",") != strings.Join(b.keys, ",") {
			return binding{}, false
		}
		switch el := s.Else.(type) {
		case *ast.IfStmt:
			s = el
		case *ast.BlockStmt:
			if returnsError(el.List) {
				return *first, true
			}
			return binding{}, false
		default:
			return binding{}, false
		}
	}
}

// keysIn lists the keys an expression or statement reads.
func (e *env) keysIn(n ast.Node) []string {
	var out []string
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			out = append(out, e.bound[n.Name].keys...)
		case *ast.IndexExpr:
			if b, ok := e.binding(n); ok {
				out = append(out, b.keys...)
			}
		case *ast.CallExpr:
			if k, ok := e.lookupKeys(n); ok {
				out = append(out, k...)
			}
		}
		return true
	})
	return out
}

// returnsError says whether statements return an error: a return whose
// last result is errors.New, fmt.Errorf, another ...Error(f) call or an
// err variable.
func returnsError(stmts []ast.Stmt) bool {
	found := false
	for _, st := range stmts {
		ast.Inspect(st, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				if len(n.Results) > 0 && isErrorExpr(n.Results[len(n.Results)-1]) {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

func isErrorExpr(x ast.Expr) bool {
	switch x := unparen(x).(type) {
	case *ast.Ident:
		return x.Name == "err" || strings.HasPrefix(x.Name, "err") && len(x.Name) > 3 && x.Name[3] >= 'A' && x.Name[3] <= 'Z' || strings.HasPrefix(x.Name, "Err")
	case *ast.CallExpr:
		name := ""
		switch fn := x.Fun.(type) {
		case *ast.SelectorExpr:
			name = fn.Sel.Name
			if id, ok := fn.X.(*ast.Ident); ok && id.Name == "errors" && name == "New" {
				return true
			}
		case *ast.Ident:
			name = fn.Name
		}
		return strings.Contains(name, "Error") || strings.HasPrefix(name, "Err") || strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Error")
	}
	return false
}
