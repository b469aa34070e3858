package gosource

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

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Tree reads the Go source of one module syntactically (go/parser, no
// type checking), so the module's dependencies need not be present. Other
// modules' packages are read from a module cache, when there, only to
// resolve constants.
type Tree struct {
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
	tree *Tree
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

// Open reads the go.mod of the module at root (its path and the versions
// it requires); packages are parsed when the analysis reaches them. With
// modcache (GOMODCACHE) other modules' packages are read from there.
func Open(root, modcache string) (*Tree, error) {
	gomod := filepath.Join(root, "go.mod")
	b, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	mod, requires, err := parseGoMod(gomod, b)
	if err != nil {
		return nil, err
	}
	if mod == "" {
		return nil, fmt.Errorf("%s: no module line", gomod)
	}
	return &Tree{fset: token.NewFileSet(), root: root, mod: mod, modcache: modcache,
		requires: requires, pkgs: map[string]*goPkg{}}, nil
}

// parseGoMod reads the module path and the required versions of a go.mod
// (x/mod's lax parser, as the go command reads a dependency's go.mod:
// directives it does not know are ignored, and so are replacements).
func parseGoMod(file string, data []byte) (mod string, requires map[string]string, err error) {
	f, err := modfile.ParseLax(file, data, nil)
	if err != nil {
		return "", nil, err
	}
	if f.Module != nil {
		mod = f.Module.Mod.Path
	}
	requires = make(map[string]string, len(f.Require))
	for _, r := range f.Require {
		requires[r.Mod.Path] = r.Mod.Version
	}
	return mod, requires, nil
}

// dir returns the directory of an import path, and its path relative to
// the module root ("" outside the module); "" when it is not available.
func (t *Tree) dir(importPath string) (dir, rel string) {
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
	// The module cache's case encoding ('!' and the letter in lower case).
	escPath, err := module.EscapePath(best)
	if err != nil {
		return "", ""
	}
	escVersion, err := module.EscapeVersion(t.requires[best])
	if err != nil {
		return "", ""
	}
	mdir := filepath.FromSlash(escPath) + "@" + escVersion
	return filepath.Join(t.modcache, mdir, filepath.FromSlash(sub)), ""
}

// pkgRel loads the package in a directory relative to the module root.
func (t *Tree) pkgRel(rel string) *goPkg {
	p := t.mod
	if rel != "" && rel != "." {
		p += "/" + filepath.ToSlash(rel)
	}
	return t.pkg(p)
}

// pkg loads a package by import path; nil when its source is not there.
func (t *Tree) pkg(importPath string) *goPkg {
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
func (t *Tree) pkgName(importPath string) string {
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
