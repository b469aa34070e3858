package gosource

import (
	"go/ast"
	"go/token"
)

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
