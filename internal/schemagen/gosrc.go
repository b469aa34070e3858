package schemagen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// goTree reads the Go source of one module syntactically (go/parser, no
// type checking), so the module's dependencies need not be present. Other
// modules' packages are read from a module cache, when there, only to
// resolve constants.
type goTree struct {
	fset *token.FileSet
	// root and mod are the module's directory and path.
	root, mod string
	// modcache is GOMODCACHE ("" disables other modules); requires maps
	// the module's requirements to their versions.
	modcache string
	requires map[string]string
	pkgs     map[string]*goPkg
}

type goPkg struct {
	tree *goTree
	// path is the import path; rel is the directory relative to the
	// module root ("" outside the module).
	path, rel, name string
	files           []*goFile
	consts          map[string]*goConst
	types           map[string]*goType
	funcs           map[string][]*goFunc
	methods         map[string][]*goFunc
}

type goFile struct {
	pkg *goPkg
	ast *ast.File
	// rel is the file's path relative to the module root.
	rel string
	// imports maps the names a file uses for its imports to import paths.
	imports map[string]string
}

type goConst struct {
	file  *goFile
	name  string
	typ   ast.Expr
	value ast.Expr
	group *ast.GenDecl
	// evaluated once
	done, ok, busy bool
	str            string
}

type goType struct {
	file *goFile
	spec *ast.TypeSpec
}

type goFunc struct {
	file *goFile
	decl *ast.FuncDecl
}

func newGoTree(root, modcache string) (*goTree, error) {
	gomod := filepath.Join(root, "go.mod")
	b, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	mod, requires := parseGoMod(string(b))
	if mod == "" {
		return nil, fmt.Errorf("%s: no module line", gomod)
	}
	return &goTree{fset: token.NewFileSet(), root: root, mod: mod, modcache: modcache,
		requires: requires, pkgs: map[string]*goPkg{}}, nil
}

// parseGoMod reads the module path and the required versions of a go.mod
// (module, require lines and blocks; everything else is ignored).
func parseGoMod(s string) (mod string, requires map[string]string) {
	requires = map[string]string{}
	inRequire := false
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inRequire && f[0] == ")":
			inRequire = false
		case inRequire && len(f) >= 2:
			requires[f[0]] = f[1]
		case f[0] == "module" && len(f) >= 2:
			mod = strings.Trim(f[1], `"`)
		case f[0] == "require" && len(f) >= 2 && f[1] == "(":
			inRequire = true
		case f[0] == "require" && len(f) >= 3:
			requires[f[1]] = f[2]
		}
	}
	return mod, requires
}

// escapeModPath is the module cache's case encoding: each upper-case
// letter becomes '!' and the letter in lower case.
func escapeModPath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dir returns the directory of an import path, and its path relative to
// the module root ("" outside the module); "" when it is not available.
func (t *goTree) dir(importPath string) (dir, rel string) {
	if importPath == t.mod || strings.HasPrefix(importPath, t.mod+"/") {
		rel = strings.TrimPrefix(strings.TrimPrefix(importPath, t.mod), "/")
		return filepath.Join(t.root, filepath.FromSlash(rel)), rel
	}
	if t.modcache == "" {
		return "", ""
	}
	best := ""
	for m := range t.requires {
		if (importPath == m || strings.HasPrefix(importPath, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	if best == "" {
		return "", ""
	}
	sub := strings.TrimPrefix(strings.TrimPrefix(importPath, best), "/")
	mdir := filepath.FromSlash(escapeModPath(best)) + "@" + escapeModPath(t.requires[best])
	return filepath.Join(t.modcache, mdir, filepath.FromSlash(sub)), ""
}

// pkgRel loads the package in a directory relative to the module root.
func (t *goTree) pkgRel(rel string) *goPkg {
	p := t.mod
	if rel != "" && rel != "." {
		p += "/" + filepath.ToSlash(rel)
	}
	return t.pkg(p)
}

// pkg loads a package by import path; nil when its source is not there.
func (t *goTree) pkg(importPath string) *goPkg {
	if p, ok := t.pkgs[importPath]; ok {
		return p
	}
	t.pkgs[importPath] = nil
	dir, rel := t.dir(importPath)
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	p := &goPkg{tree: t, path: importPath, rel: rel, consts: map[string]*goConst{}, types: map[string]*goType{},
		funcs: map[string][]*goFunc{}, methods: map[string][]*goFunc{}}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := parser.ParseFile(t.fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil || strings.HasSuffix(f.Name.Name, "_test") {
			continue
		}
		if p.name == "" {
			p.name = f.Name.Name
		} else if f.Name.Name != p.name {
			continue
		}
		gf := &goFile{pkg: p, ast: f, rel: path.Join(filepath.ToSlash(rel), n), imports: map[string]string{}}
		for _, is := range f.Imports {
			ip, _ := strconv.Unquote(is.Path.Value)
			name := ""
			if is.Name != nil {
				name = is.Name.Name
			} else {
				name = t.pkgName(ip)
			}
			if name != "_" && name != "." {
				gf.imports[name] = ip
			}
		}
		p.files = append(p.files, gf)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				fn := &goFunc{file: gf, decl: d}
				if d.Recv != nil {
					p.methods[d.Name.Name] = append(p.methods[d.Name.Name], fn)
				} else {
					p.funcs[d.Name.Name] = append(p.funcs[d.Name.Name], fn)
				}
			case *ast.GenDecl:
				var lastType ast.Expr
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						if d.Tok != token.CONST {
							continue
						}
						if len(s.Values) > 0 {
							lastType = s.Type
						}
						for i, n := range s.Names {
							// A constant without a value repeats the
							// previous expression: iota, never a string
							// key, so it stays without a value.
							c := &goConst{file: gf, name: n.Name, typ: s.Type, group: d}
							if i < len(s.Values) {
								c.value = s.Values[i]
							} else if len(s.Values) == 0 {
								c.typ = lastType
							}
							p.consts[n.Name] = c
						}
					case *ast.TypeSpec:
						p.types[s.Name.Name] = &goType{file: gf, spec: s}
					}
				}
			}
		}
	}
	t.pkgs[importPath] = p
	return p
}

// pkgName guesses a package's name from its import path when the import
// has no explicit name: the name in its source when it can be read, else
// the last element without a version suffix or a go- prefix or -go suffix.
func (t *goTree) pkgName(importPath string) string {
	if p, ok := t.pkgs[importPath]; ok && p != nil {
		return p.name
	}
	if importPath == t.mod || strings.HasPrefix(importPath, t.mod+"/") {
		if p := t.pkg(importPath); p != nil {
			return p.name
		}
	}
	elems := strings.Split(importPath, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = elems[len(elems)-2]
	}
	if i := strings.IndexByte(last, '.'); i > 0 {
		last = last[:i]
	}
	last = strings.TrimSuffix(strings.TrimPrefix(last, "go-"), "-go")
	return strings.ReplaceAll(last, "-", "")
}

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
