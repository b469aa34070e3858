// Package schemagen turns Dapr's component metadata into the project's JSON
// Schemas in two stages:
//
//  1. Extract reads a components-contrib checkout (pubsub/**/metadata.yaml and
//     .build-tools/builtin-authentication-profiles.yaml) and keeps only the
//     facts the schemas need: key names, types, required, sensitive,
//     deprecated, allowed values, defaults and authentication profiles. With
//     the components-contrib Go source (the module version daprd is built
//     with) it adds what each component's code reads (gosource.Keys): keys
//     metadata.yaml does not list, deprecated keys still honoured and their
//     replacements, and values compared with fixed strings.
//     MarshalFacts writes them to schemas/facts/dapr-pubsub-metadata.json.
//  2. Generate turns the facts into schemas/pubsub/pubsub.<name>.schema.json,
//     schemas/component.schema.json and, from Drivers,
//     schemas/connection-config.<driver>.schema.json.
//
// Stage 2 reads nothing but the facts, so tests can check that the committed
// schemas are up to date without the Dapr sources. Both stages are
// deterministic.
package schemagen

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/schemagen/gosource"
)

// FactsFile is the path of the facts file inside the schemas directory.
const FactsFile = "facts/dapr-pubsub-metadata.json"

// Facts is the content of the facts file.
type Facts struct {
	Comment    string      `json:"comment"`
	Source     Source      `json:"source"`
	Components []Component `json:"components"`
}

// Source names where the facts come from.
type Source struct {
	Project string `json:"project"`
	Version string `json:"version"`
	License string `json:"license"`
	// GoModule and GoVersion name the Go source the components' gosource.Info
	// was read from (the version of the module dapr/dapr requires).
	GoModule  string `json:"goModule,omitempty"`
	GoVersion string `json:"goVersion,omitempty"`
}

// Component is one pubsub component's metadata.
type Component struct {
	// Type is the Component's spec.type, for example "pubsub.redis".
	Type    string `json:"type"`
	Version string `json:"version"`
	Status  string `json:"status,omitempty"`
	Title   string `json:"title,omitempty"`
	// From is the file, relative to the components-contrib root, that the
	// facts were read from.
	From string `json:"from"`
	// Note says how facts not read from a metadata.yaml were obtained.
	Note     string `json:"note,omitempty"`
	Metadata []Key  `json:"metadata"`
	// AuthenticationProfiles includes the expanded built-in profiles.
	AuthenticationProfiles []Profile `json:"authenticationProfiles,omitempty"`
	// Source is what the component's Go source reads.
	Source *gosource.Info `json:"source,omitempty"`
}

// Profile is an authentication profile: keys that apply when it is used.
type Profile struct {
	Title string `json:"title"`
	// Builtin names the built-in profile group (aws, azuread, gcp) this
	// profile was expanded from, if any.
	Builtin  string `json:"builtin,omitempty"`
	Metadata []Key  `json:"metadata"`
}

// Key is one metadata key as metadata.yaml declares it.
type Key struct {
	Name string `json:"name"`
	// Type is string, number, bool, duration or bytesize; empty when the
	// file does not say (Dapr then means string).
	Type          string   `json:"type,omitempty"`
	Required      bool     `json:"required,omitempty"`
	Sensitive     bool     `json:"sensitive,omitempty"`
	Deprecated    bool     `json:"deprecated,omitempty"`
	AllowedValues []string `json:"allowedValues,omitempty"`
	// Default is the default as written in metadata.yaml (it may be quoted
	// or be prose).
	Default string `json:"default,omitempty"`
}

// rawKey mirrors the metadata.yaml "Metadata" definition; scalars that YAML
// may type (default, allowedValues) are decoded loosely.
type rawKey struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Required      bool   `json:"required"`
	Sensitive     bool   `json:"sensitive"`
	Deprecated    bool   `json:"deprecated"`
	AllowedValues []any  `json:"allowedValues"`
	Default       any    `json:"default"`
}

type rawProfile struct {
	Title    string   `json:"title"`
	Metadata []rawKey `json:"metadata"`
}

type rawComponent struct {
	Type                   string       `json:"type"`
	Name                   string       `json:"name"`
	Version                string       `json:"version"`
	Status                 string       `json:"status"`
	Title                  string       `json:"title"`
	Metadata               []rawKey     `json:"metadata"`
	AuthenticationProfiles []rawProfile `json:"authenticationProfiles"`
	BuiltinProfiles        []struct {
		Name     string   `json:"name"`
		Metadata []rawKey `json:"metadata"`
	} `json:"builtinAuthenticationProfiles"`
}

const builtinProfilesFile = ".build-tools/builtin-authentication-profiles.yaml"

// GoSource is the components-contrib Go source Extract reads, optionally.
type GoSource struct {
	// Dir is the module's directory (for example the module cache's
	// github.com/dapr/components-contrib@v1.14.0-rc.6); "" for none.
	Dir string
	// Version is the module version in Dir.
	Version string
	// ModCache is GOMODCACHE, where the module's dependencies are read to
	// resolve constants they declare (rabbitmq's exchange kinds are
	// amqp091-go's). With "" (or a dependency missing there) such values
	// are unknown, and a key compared with them gets no allowed values.
	ModCache string
}

// Extract reads the pubsub facts from a components-contrib checkout at root
// (for example /work/shared/data/dapr-components-contrib-v1.14.0) and adds
// the Supplement components that have no metadata.yaml there. With src.Dir
// it adds each component's gosource.Info, read from the Go package of the
// component's metadata file.
func Extract(root, version string, src GoSource) (*Facts, error) {
	builtin := map[string][]rawProfile{}
	if err := readYAML(filepath.Join(root, builtinProfilesFile), &builtin); err != nil {
		return nil, err
	}
	var paths []string
	err := filepath.WalkDir(filepath.Join(root, "pubsub"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "metadata.yaml" {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing pubsub metadata: %w", err)
	}
	f := &Facts{
		Comment: "Facts extracted by hack/schemagen -data from Dapr components-contrib (pubsub/**/metadata.yaml, built-in authentication profiles expanded); do not edit by hand. `make schemas` generates the schemas from this file.",
		Source:  Source{Project: "dapr/components-contrib", Version: version, License: "Apache-2.0"},
	}
	if src.Dir != "" {
		f.Comment = "Facts extracted by hack/schemagen -data -source from Dapr components-contrib: pubsub/**/metadata.yaml (built-in authentication profiles expanded) and, under \"source\", what each component's Go code reads (internal/schemagen/source.go); do not edit by hand. `make schemas` generates the schemas from this file."
		f.Source.GoModule, f.Source.GoVersion = "github.com/dapr/components-contrib", src.Version
	}
	seen := map[string]bool{}
	for _, p := range paths {
		var rc rawComponent
		if err := readYAML(p, &rc); err != nil {
			return nil, err
		}
		if rc.Type != "pubsub" {
			continue
		}
		rel, _ := filepath.Rel(root, p)
		c := Component{
			Type:    rc.Type + "." + rc.Name,
			Version: rc.Version,
			Status:  rc.Status,
			Title:   rc.Title,
			From:    filepath.ToSlash(rel),
		}
		if c.Metadata, err = keys(rc.Metadata); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, ap := range rc.AuthenticationProfiles {
			md, err := keys(ap.Metadata)
			if err != nil {
				return nil, fmt.Errorf("%s: profile %q: %w", p, ap.Title, err)
			}
			c.AuthenticationProfiles = append(c.AuthenticationProfiles, Profile{Title: ap.Title, Metadata: md})
		}
		for _, ref := range rc.BuiltinProfiles {
			group, ok := builtin[ref.Name]
			if !ok {
				return nil, fmt.Errorf("%s: unknown built-in authentication profile %q", p, ref.Name)
			}
			for _, bp := range group {
				md, err := keys(mergeKeys(bp.Metadata, ref.Metadata))
				if err != nil {
					return nil, fmt.Errorf("%s: profile %q: %w", p, bp.Title, err)
				}
				c.AuthenticationProfiles = append(c.AuthenticationProfiles, Profile{Title: bp.Title, Builtin: ref.Name, Metadata: md})
			}
		}
		seen[c.Type] = true
		f.Components = append(f.Components, c)
	}
	for _, c := range Supplement() {
		if !seen[c.Type] {
			f.Components = append(f.Components, c)
		}
	}
	sort.Slice(f.Components, func(i, j int) bool { return f.Components[i].Type < f.Components[j].Type })
	if src.Dir == "" {
		return f, nil
	}
	tree, err := gosource.Open(src.Dir, src.ModCache)
	if err != nil {
		return nil, fmt.Errorf("components-contrib source: %w", err)
	}
	for i := range f.Components {
		c := &f.Components[i]
		dir := path.Dir(c.From)
		keys, err := gosource.Keys(tree, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Type, err)
		}
		c.Source = &gosource.Info{Dir: dir, Keys: keys}
	}
	return f, nil
}

// mergeKeys appends extra to base; an extra key replaces a base key of the
// same name in place.
func mergeKeys(base, extra []rawKey) []rawKey {
	out := append([]rawKey(nil), base...)
	for _, e := range extra {
		replaced := false
		for i := range out {
			if out[i].Name == e.Name {
				out[i], replaced = e, true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}

func keys(raw []rawKey) ([]Key, error) {
	out := []Key{}
	for _, r := range raw {
		if r.Name == "" {
			return nil, fmt.Errorf("metadata key without a name")
		}
		switch r.Type {
		case "", "string", "number", "bool", "duration", "bytesize":
		default:
			return nil, fmt.Errorf("key %s: unknown type %q", r.Name, r.Type)
		}
		k := Key{Name: r.Name, Type: r.Type, Required: r.Required, Sensitive: r.Sensitive, Deprecated: r.Deprecated}
		for _, v := range r.AllowedValues {
			k.AllowedValues = append(k.AllowedValues, scalar(v))
		}
		if r.Default != nil {
			k.Default = scalar(r.Default)
		}
		out = append(out, k)
	}
	return out, nil
}

func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func readYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}

// MarshalFacts renders facts as 2-space indented JSON with a final newline.
func MarshalFacts(f *Facts) ([]byte, error) { return encode(f) }

// UnmarshalFacts parses a facts file.
func UnmarshalFacts(b []byte) (*Facts, error) {
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parsing facts: %w", err)
	}
	for _, c := range f.Components {
		if !strings.HasPrefix(c.Type, "pubsub.") {
			return nil, fmt.Errorf("facts: component type %q is not a pubsub type", c.Type)
		}
	}
	return &f, nil
}
