// Package schemas embeds the project's JSON Schemas (draft 2020-12) and
// compiles them with github.com/santhosh-tekuri/jsonschema/v6, the library
// Helm uses for values schemas. The publisher, the linter and the chart tests
// all validate with these same files.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed *.schema.json pubsub/*.schema.json
var files embed.FS

// baseURL is the identifier prefix under which the schemas are registered.
const baseURL = "https://gatekeeper-pubsub.dev/schemas/"

const (
	// ConnectionConfigMap describes the connection ConfigMap as a whole.
	ConnectionConfigMap = "connection-configmap"
	// Component describes a Dapr Component resource (dapr.io/v1alpha1).
	Component = "component"
	// Violation describes the message that the audit publishes.
	Violation = "violation"
	// AlertWebhook describes the body the violations consumer POSTs to a
	// webhook alert route.
	AlertWebhook = "alert-webhook"
	// connectionConfigPrefix prefixes per-driver connection config schemas.
	connectionConfigPrefix = "connection-config."
	// pubsubDir holds one metadata schema per Dapr pubsub type.
	pubsubDir = "pubsub/"
)

var (
	compileOnce sync.Once
	compiler    *jsonschema.Compiler
	compileErr  error
	cacheMu     sync.Mutex
	cache       = map[string]*jsonschema.Schema{}
	printer     = message.NewPrinter(language.English)
)

func load() {
	compiler = jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compileErr = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("schemas/%s: %w", p, err)
		}
		return compiler.AddResource(baseURL+p, doc)
	})
}

// Names lists every schema by name: the file path without ".schema.json".
func Names() []string {
	var names []string
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimSuffix(p, ".schema.json"))
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// Get compiles (once) and returns the schema with the given name, for
// example "connection-config.dapr" or "pubsub/pubsub.redis".
func Get(name string) (*jsonschema.Schema, error) {
	compileOnce.Do(load)
	if compileErr != nil {
		return nil, compileErr
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if s, ok := cache[name]; ok {
		return s, nil
	}
	if _, err := fs.Stat(files, name+".schema.json"); err != nil {
		return nil, fmt.Errorf("no schema named %q", name)
	}
	s, err := compiler.Compile(baseURL + name + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("compiling schema %s: %w", name, err)
	}
	cache[name] = s
	return s, nil
}

// Raw returns the bytes of the named schema file.
func Raw(name string) ([]byte, error) {
	return files.ReadFile(name + ".schema.json")
}

// Drivers lists Gatekeeper's export drivers ("providers" up to v3.18)
// that have a config schema, sorted: every driver of every Gatekeeper
// version. DriversFor lists those of one form.
func Drivers() []string {
	var out []string
	for _, n := range Names() {
		if strings.HasPrefix(n, connectionConfigPrefix) {
			out = append(out, strings.TrimPrefix(n, connectionConfigPrefix))
		}
	}
	return out
}

// ConnectionConfig returns the schema name for a driver's connection config.
func ConnectionConfig(driver string) string { return connectionConfigPrefix + driver }

// Forms of a connection config (DriverInfo.Forms).
const (
	// FormConfigMap is the connection ConfigMap of Gatekeeper v3.13-v3.19
	// (data.provider, or data.driver in v3.19).
	FormConfigMap = "ConfigMap"
	// FormConnection is the Connection resource of Gatekeeper v3.20+.
	FormConnection = "Connection"
)

// DriverInfo is the "x-gatekeeper" annotation of a connection config
// schema: which Gatekeeper versions and config forms know the driver.
type DriverInfo struct {
	Driver string `json:"driver"`
	// Since is the first Gatekeeper release with the driver, "v3.20.0".
	Since string `json:"since"`
	// Forms are FormConfigMap and/or FormConnection.
	Forms   []string `json:"forms"`
	Source  string   `json:"source"`
	License string   `json:"license"`
	// DurationRanges are the bounds of config keys holding a Go duration
	// (the properties' x-durationRange), which JSON Schema cannot check.
	DurationRanges map[string]DurationRange `json:"-"`
}

// DurationRange bounds a duration, both ends included.
type DurationRange struct{ Min, Max time.Duration }

// HasForm says whether the driver can be named in a config of that form.
func (d *DriverInfo) HasForm(form string) bool {
	for _, f := range d.Forms {
		if f == form {
			return true
		}
	}
	return false
}

var (
	driverMu    sync.Mutex
	driverCache = map[string]*DriverInfo{}
)

// Driver returns the annotation of a driver's config schema. The result is
// shared: do not modify it.
func Driver(name string) (*DriverInfo, error) {
	driverMu.Lock()
	defer driverMu.Unlock()
	if d, ok := driverCache[name]; ok {
		return d, nil
	}
	d, err := loadDriver(name)
	if err != nil {
		return nil, err
	}
	driverCache[name] = d
	return d, nil
}

func loadDriver(name string) (*DriverInfo, error) {
	b, err := Raw(ConnectionConfig(name))
	if err != nil {
		return nil, fmt.Errorf("no connection config schema for driver %q", name)
	}
	var doc struct {
		Info       *DriverInfo `json:"x-gatekeeper"`
		Properties map[string]struct {
			Range *struct {
				Minimum string `json:"minimum"`
				Maximum string `json:"maximum"`
			} `json:"x-durationRange"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", ConnectionConfig(name), err)
	}
	if doc.Info == nil {
		return nil, fmt.Errorf("schema %s has no x-gatekeeper annotation", ConnectionConfig(name))
	}
	doc.Info.DurationRanges = map[string]DurationRange{}
	for k, p := range doc.Properties {
		if p.Range == nil {
			continue
		}
		lo, err1 := time.ParseDuration(p.Range.Minimum)
		hi, err2 := time.ParseDuration(p.Range.Maximum)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("schema %s: %s: bad x-durationRange", ConnectionConfig(name), k)
		}
		doc.Info.DurationRanges[k] = DurationRange{Min: lo, Max: hi}
	}
	return doc.Info, nil
}

// DriversFor lists the drivers that a config of the form can name, sorted.
func DriversFor(form string) []string {
	var out []string
	for _, n := range Drivers() {
		if d, err := Driver(n); err == nil && d.HasForm(form) {
			out = append(out, n)
		}
	}
	return out
}

// PubsubTypes lists the Dapr pubsub component types that have a metadata
// schema, for example "pubsub.redis".
func PubsubTypes() []string {
	var out []string
	for _, n := range Names() {
		if strings.HasPrefix(n, pubsubDir) {
			out = append(out, path.Base(n))
		}
	}
	return out
}

// PubsubMetadata returns the schema name for a pubsub type's metadata.
func PubsubMetadata(componentType string) string { return pubsubDir + componentType }

// Problem is one schema violation: where in the instance, and what.
type Problem struct {
	// Pointer is the JSON pointer of the offending value ("" for the root).
	Pointer string
	// Message says what is wrong, in English.
	Message string
}

func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "/"
	}
	return fmt.Sprintf("at %s: %s", ptr, p.Message)
}

// Validate checks v (a value as decoded by encoding/json into any) against
// the named schema and returns the leaf problems, most specific first, or
// nil when v is valid. The error is for a missing or broken schema.
func Validate(name string, v any) ([]Problem, error) {
	s, err := Get(name)
	if err != nil {
		return nil, err
	}
	err = s.Validate(v)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("validating against %s: %w", name, err)
	}
	var out []Problem
	collect(ve, &out)
	return out, nil
}

func collect(e *jsonschema.ValidationError, out *[]Problem) {
	if len(e.Causes) == 0 {
		*out = append(*out, Problem{Pointer: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)})
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		sb.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return sb.String()
}

// PubsubInfo is the "x-dapr" annotation of a pubsub metadata schema: facts
// about the keys that JSON Schema keywords do not carry.
type PubsubInfo struct {
	// Type is the component type, for example "pubsub.redis".
	Type    string `json:"type"`
	Version string `json:"version"`
	// Status is stable, beta, alpha or empty when unknown.
	Status string `json:"status"`
	// Source names the Dapr file the facts come from.
	Source  string `json:"source"`
	License string `json:"license"`
	// Sensitive keys should come from a secretKeyRef, not a plain value.
	Sensitive []string `json:"sensitive"`
	// Deprecated keys should not be used in new configurations; Dapr
	// still reads them. ReplacedBy names the key that replaces one, when
	// known.
	Deprecated []string          `json:"deprecated"`
	ReplacedBy map[string]string `json:"replacedBy"`
	// GoSource names the Go package the source facts come from ("" when
	// only metadata.yaml was read).
	GoSource string `json:"goSource"`
	// RuntimeKeys are read by the Dapr runtime for every pubsub type.
	RuntimeKeys []string `json:"runtimeKeys"`
	// AuthenticationProfiles lists the ways to authenticate; a key required
	// only by a profile is not in the schema's "required".
	AuthenticationProfiles []AuthenticationProfile `json:"authenticationProfiles"`
}

// AuthenticationProfile is one way to authenticate a pubsub component.
type AuthenticationProfile struct {
	Title string `json:"title"`
	// Builtin names the shared profile group (aws, azuread, gcp), if any.
	Builtin  string   `json:"builtin,omitempty"`
	Required []string `json:"required"`
	Keys     []string `json:"keys"`
}

// Pubsub returns the x-dapr annotation of the metadata schema of a pubsub
// type, for example "pubsub.redis".
func Pubsub(componentType string) (*PubsubInfo, error) {
	b, err := Raw(PubsubMetadata(componentType))
	if err != nil {
		return nil, fmt.Errorf("no metadata schema for pubsub type %q", componentType)
	}
	var doc struct {
		Info *PubsubInfo `json:"x-dapr"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", PubsubMetadata(componentType), err)
	}
	if doc.Info == nil {
		return nil, fmt.Errorf("schema %s has no x-dapr annotation", PubsubMetadata(componentType))
	}
	return doc.Info, nil
}
