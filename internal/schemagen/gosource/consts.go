package gosource

import (
	"fmt"
	"go/ast"
	"go/token"
	"strconv"
	"unicode"
)

// pos renders a node's position as rel/file.go:line.
func (f *goFile) pos(n ast.Node) string {
	return fmt.Sprintf("%s:%d", f.rel, f.pkg.tree.fset.Position(n.Pos()).Line)
}

// importOf returns the import path an identifier names in the file, if it
// is an import.
func (f *goFile) importOf(e ast.Expr) (string, bool) {
	id, ok := e.(*ast.Ident)
	if !ok {
		return "", false
	}
	p, ok := f.imports[id.Name]
	return p, ok
}

// constString evaluates a constant string expression in the file: string
// literals, constants of this or another package (when its source is
// there), +, parentheses and conversions such as T("x").
func (f *goFile) constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return f.constString(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := f.constString(e.X)
		b, ok2 := f.constString(e.Y)
		return a + b, ok1 && ok2
	case *ast.CallExpr:
		if len(e.Args) == 1 {
			switch fn := e.Fun.(type) {
			case *ast.Ident:
				if _, ok := f.pkg.types[fn.Name]; ok || fn.Name == "string" {
					return f.constString(e.Args[0])
				}
			case *ast.SelectorExpr:
				if _, ok := f.importOf(fn.X); ok {
					return f.constString(e.Args[0])
				}
			}
		}
		return "", false
	}
	c := f.constOf(e)
	if c == nil {
		return "", false
	}
	return c.eval()
}

// selectorPkg returns the package a pkg.Name selector's pkg imports, or nil.
func (f *goFile) selectorPkg(e *ast.SelectorExpr) *goPkg {
	ip, ok := f.importOf(e.X)
	if !ok {
		return nil
	}
	return f.pkg.tree.pkg(ip)
}

// constOf returns the constant an identifier or pkg.Name selector names.
func (f *goFile) constOf(e ast.Expr) *goConst {
	switch e := e.(type) {
	case *ast.Ident:
		return f.pkg.consts[e.Name]
	case *ast.SelectorExpr:
		if p := f.selectorPkg(e); p != nil {
			return p.consts[e.Sel.Name]
		}
	}
	return nil
}

func (c *goConst) eval() (string, bool) {
	if c.done {
		return c.str, c.ok
	}
	if c.busy || c.value == nil {
		return "", false
	}
	c.busy = true
	c.str, c.ok = c.file.constString(c.value)
	c.busy, c.done = false, true
	return c.str, c.ok
}

// siblings returns the string values of the constants declared in the same
// const block as c that are of the same kind: the same declared type, or,
// when untyped, the same last word of their CamelCase name (ClusterType
// and NodeType).
func (c *goConst) siblings() []string {
	var out []string
	for _, s := range c.group.Specs {
		vs, ok := s.(*ast.ValueSpec)
		if !ok {
			continue
		}
		for _, n := range vs.Names {
			o := c.file.pkg.consts[n.Name]
			if o == nil || o == c || o.group != c.group {
				continue
			}
			same := false
			switch {
			case c.typ != nil && o.typ != nil:
				same = exprString(c.typ) == exprString(o.typ)
			case c.typ == nil && o.typ == nil:
				same = lastWord(c.name) != "" && lastWord(c.name) == lastWord(o.name) && lastWord(c.name) != c.name
			}
			if !same {
				continue
			}
			if v, ok := o.eval(); ok && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func lastWord(name string) string {
	for i := len(name) - 1; i > 0; i-- {
		if unicode.IsUpper(rune(name[i])) {
			return name[i:]
		}
	}
	return name
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.ArrayType:
		return "[]" + exprString(e.Elt)
	case *ast.MapType:
		return "map[" + exprString(e.Key) + "]" + exprString(e.Value)
	case *ast.InterfaceType:
		return "interface{}"
	case *ast.ParenExpr:
		return exprString(e.X)
	}
	return fmt.Sprintf("%T", e)
}

// typeSpec resolves a type expression (T, pkg.T, *T) to its declaration.
func (f *goFile) typeSpec(e ast.Expr) *goType {
	switch e := e.(type) {
	case *ast.StarExpr:
		return f.typeSpec(e.X)
	case *ast.ParenExpr:
		return f.typeSpec(e.X)
	case *ast.Ident:
		return f.pkg.types[e.Name]
	case *ast.SelectorExpr:
		if p := f.selectorPkg(e); p != nil {
			return p.types[e.Sel.Name]
		}
	}
	return nil
}
