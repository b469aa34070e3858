package gosource

import (
	"go/ast"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

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
