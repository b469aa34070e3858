package gosource

import (
	"go/ast"
	"go/token"
	"strings"
)

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
