// Package valuesdoc generates the values table of a chart's README from the
// comments in its values.yaml: the comment directly above a key documents
// it. A key with a comment is one value (even when it holds a map or a
// list, shown whole as its default); a map without a comment is a section
// whose keys are documented one by one. Every value must have a comment.
package valuesdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Value is one documented value.
type Value struct {
	// Key is the dotted path, for example "audit.enablePubsub".
	Key string
	// Default is the default value: a scalar as written, anything else as JSON.
	Default string
	// Description is the comment text on one line.
	Description string
	// Line is the key's line in values.yaml.
	Line int
}

// Parse reads values.yaml and returns its documented values in file order.
// It fails when a value has no comment, naming its key and line.
func Parse(data []byte) ([]Value, error) {
	rn, err := yaml.Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("parsing values: %w", err)
	}
	root := rn.YNode()
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("values: the top level is not a map")
	}
	var out []Value
	var missing []string
	walk(root, "", &out, &missing)
	if len(missing) > 0 {
		return out, fmt.Errorf("values without a comment to document them: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func walk(m *yaml.Node, prefix string, out *[]Value, missing *[]string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + key
		}
		desc := commentText(k.HeadComment)
		if desc == "" && v.Kind == yaml.MappingNode && len(v.Content) > 0 {
			walk(v, key, out, missing)
			continue
		}
		if desc == "" {
			*missing = append(*missing, fmt.Sprintf("%s (line %d)", key, k.Line))
			continue
		}
		*out = append(*out, Value{Key: key, Default: defaultOf(v), Description: desc, Line: k.Line})
	}
}

// commentText keeps the last paragraph of a head comment (the lines directly
// above the key), without the "#" markers, on one line.
func commentText(c string) string {
	paras := strings.Split(strings.TrimSpace(c), "\n\n")
	last := paras[len(paras)-1]
	var words []string
	for _, l := range strings.Split(last, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#"))
		if l != "" {
			words = append(words, l)
		}
	}
	return strings.Join(words, " ")
}

func defaultOf(v *yaml.Node) string {
	if v.Kind == yaml.ScalarNode {
		if v.Tag == "!!str" && (v.Value == "" || v.Style != 0) {
			b, _ := json.Marshal(v.Value)
			return string(b)
		}
		return v.Value
	}
	var x any
	if err := v.Decode(&x); err != nil {
		return "?"
	}
	b, err := json.Marshal(x)
	if err != nil {
		return "?"
	}
	return string(b)
}

// Table renders the values as a Markdown table.
func Table(values []Value) string {
	var b bytes.Buffer
	b.WriteString("| Key | Default | Description |\n")
	b.WriteString("| --- | --- | --- |\n")
	for _, v := range values {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", v.Key, cell(v.Default), cell(v.Description))
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Markers delimit the generated table in README.md.
const (
	BeginMarker = "<!-- values:begin (generated from values.yaml; do not edit) -->"
	EndMarker   = "<!-- values:end -->"
)

// UpdateReadme replaces the text between the markers with the table of the
// values in valuesYAML.
func UpdateReadme(readme, valuesYAML []byte) ([]byte, error) {
	vals, err := Parse(valuesYAML)
	if err != nil {
		return nil, err
	}
	s := string(readme)
	i := strings.Index(s, BeginMarker)
	j := strings.Index(s, EndMarker)
	if i < 0 || j < i {
		return nil, fmt.Errorf("README has no %q ... %q section", BeginMarker, EndMarker)
	}
	return []byte(s[:i+len(BeginMarker)] + "\n" + Table(vals) + s[j:]), nil
}
