package gosource

import (
	"go/ast"
	"go/token"
	"sort"
	"strings"
)

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
