// Package render turns inputs into Kubernetes objects with their source
// positions: YAML/JSON files, Helm charts (rendered in-process like
// `helm template`) and kustomize directories (built in-process like
// `kustomize build`). It has one job; checking the objects is internal/lint's.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unique"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/objref"
)

// Object is one decoded Kubernetes object and where it came from.
type Object struct {
	// Source is the file the object was read from; for a chart, the template
	// path from the "# Source:" comment (for example
	// "gatekeeper-pubsub/templates/audit-deployment.yaml"); for kustomize, the
	// kustomization directory, or the original file when origin annotations
	// are enabled in the kustomization's buildMetadata.
	Source string
	// Line is the 1-based line of the document start in Source, 0 if
	// unknown. For chart output it is the line in the rendered text of the
	// template, which may differ from the template file itself.
	Line int
	// Obj is the decoded object. Integers decode as int64, other numbers
	// as float64.
	Obj map[string]any
	// Template is set for an object rendered from a chart: the template
	// file on disk and where its rendered lines come from.
	Template *TemplateSource
	// Raw is the document's text as read or rendered.
	Raw []byte
	// id is what names the object once Obj was released (Release).
	id *identity
}

// identity is what an object's methods read, kept when its tree is released.
type identity struct {
	apiVersion, kind, name, namespace string
	labels, annotations               map[string]string
}

// Release drops the decoded tree (Obj) and keeps what names the object:
// apiVersion, kind, metadata.name, namespace, labels and annotations, which
// the methods go on returning. Raw stays, so positions can still be found.
// It is for objects of which the caller keeps a small model of its own.
func (o *Object) Release() {
	if o.Obj == nil {
		return
	}
	// apiVersion, kind and namespace repeat across objects: one copy of
	// each is kept.
	o.id = &identity{apiVersion: intern(o.APIVersion()), kind: intern(o.Kind()), name: o.Name(), namespace: intern(o.Namespace()),
		labels: o.Labels(), annotations: o.Annotations()}
	o.Obj = nil
}

func intern(s string) string { return unique.Make(s).Value() }

// Released says whether Release dropped the tree.
func (o Object) Released() bool { return o.id != nil }

// APIVersion returns the object's apiVersion.
func (o Object) APIVersion() string {
	if o.id != nil {
		return o.id.apiVersion
	}
	return str(o.Obj["apiVersion"])
}

// Kind returns the object's kind.
func (o Object) Kind() string {
	if o.id != nil {
		return o.id.kind
	}
	return str(o.Obj["kind"])
}

// Name returns metadata.name.
func (o Object) Name() string {
	if o.id != nil {
		return o.id.name
	}
	return str(o.meta()["name"])
}

// Namespace returns metadata.namespace ("" when unset).
func (o Object) Namespace() string {
	if o.id != nil {
		return o.id.namespace
	}
	return str(o.meta()["namespace"])
}

// Labels returns metadata.labels with string values.
func (o Object) Labels() map[string]string {
	if o.id != nil {
		return o.id.labels
	}
	return strMap(o.meta()["labels"])
}

// Annotations returns metadata.annotations with string values.
func (o Object) Annotations() map[string]string {
	if o.id != nil {
		return o.id.annotations
	}
	return strMap(o.meta()["annotations"])
}

// Ref names the object.
func (o Object) Ref() objref.Ref {
	return objref.Ref{APIVersion: o.APIVersion(), Kind: o.Kind(), Namespace: o.Namespace(), Name: o.Name()}
}

// String names the object as "Kind namespace/name" (objref.Ref).
func (o Object) String() string { return o.Ref().String() }

// Position returns "source:line" (or just the source when the line is unknown).
func (o Object) Position() string {
	if o.Line > 0 {
		return fmt.Sprintf("%s:%d", o.Source, o.Line)
	}
	return o.Source
}

// Lookup walks obj along path (map keys) and returns the value found.
func Lookup(obj map[string]any, path ...string) (any, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func (o Object) meta() map[string]any {
	m, _ := o.Obj["metadata"].(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// decodeJSON decodes JSON into a value where integers are int64 and other
// numbers float64, so that round trips keep integers as integers.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = convertNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = convertNumbers(e)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	default:
		return v
	}
}

// TemplateSource is the chart template an object was rendered from.
type TemplateSource struct {
	// File is the template's path on disk: the chart directory as given
	// joined with the template's path in the chart (for example
	// charts/gatekeeper/templates/gatekeeper-audit-deployment.yaml).
	File string
	// Lines maps a line of the rendered template (Object.Line counts in
	// the same text) to the line of the template source that produced it;
	// 0 or out of range means unknown.
	Lines []int
}

// SourceLine returns the template source line that produced rendered line
// n, or 0.
func (t *TemplateSource) SourceLine(n int) int {
	if t == nil || n <= 0 || n >= len(t.Lines) {
		return 0
	}
	return t.Lines[n]
}
