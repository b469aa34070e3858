// Package connection reads Gatekeeper's connection config in every form it
// has had, for the publisher (pkg/pubsub) and the linter (internal/lint) alike:
// a ConfigMap with data.provider (Gatekeeper v3.13 to v3.18) or data.driver
// (v3.19), a Connection resource (connection.gatekeeper.sh/v1alpha1,
// v3.20 and later), or a ConfigMap mounted as a directory (the chart's helm
// test pod). Each form gives one typed value, a Connection, with every
// problem found in it; the drivers' config schemas are package schemas'.
package connection

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/objref"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// APIVersion is the API of the Connection resource (Gatekeeper v3.20+).
const APIVersion = "connection.gatekeeper.sh/v1alpha1"

// Form is how a connection config is written.
type Form uint8

// The forms of a connection config.
const (
	// ConfigMapProvider is a ConfigMap with data.provider (v3.13 to v3.18).
	ConfigMapProvider Form = iota
	// ConfigMapDriver is a ConfigMap with data.driver (v3.19).
	ConfigMapDriver
	// Resource is a Connection resource with spec.driver and spec.config.
	Resource
)

// String describes the form for messages.
func (f Form) String() string {
	switch f {
	case Resource:
		return "a Connection resource"
	case ConfigMapDriver:
		return "a ConfigMap with data.driver"
	default:
		return "a ConfigMap with data.provider"
	}
}

// SchemaForm is the form as package schemas names it: schemas.FormConnection
// or schemas.FormConfigMap.
func (f Form) SchemaForm() string {
	if f == Resource {
		return schemas.FormConnection
	}
	return schemas.FormConfigMap
}

// Kind is the Kubernetes kind of the form.
func (f Form) Kind() string {
	if f == Resource {
		return "Connection"
	}
	return "ConfigMap"
}

// Connection is one connection config as read, with what is wrong with it.
type Connection struct {
	// Source is the file (or directory) it was read from, "" if none.
	Source string
	// Name and Namespace are the object's; Name is what --audit-connection
	// names.
	Name, Namespace string
	Form            Form
	// HasData: the ConfigMap has data (the Connection has spec).
	HasData bool
	// Driver is data.provider, data.driver or spec.driver ("dapr", "disk").
	Driver    string
	HasDriver bool
	// HasConfig: data.config (spec.config) is there.
	HasConfig bool
	// ConfigRaw is a ConfigMap's data.config: JSON text.
	ConfigRaw string
	// ConfigNotString: a ConfigMap's data.config is written as a YAML map
	// or list, not as a string.
	ConfigNotString bool
	// Config is the config decoded, when it is a JSON object. Unless
	// Problems say otherwise it passed the driver's schema.
	Config map[string]any
	// Problems are what is wrong, in the order a reader meets them.
	Problems []Problem
}

// ProblemKind says what kind of problem a Problem is.
type ProblemKind uint8

// Kinds of problems.
const (
	// NoData: the ConfigMap has no data (the Connection no spec).
	NoData ProblemKind = iota + 1
	// NoDriver: data.provider, data.driver or spec.driver is missing or empty.
	NoDriver
	// UnknownDriver: the driver is not one the form can name; the error
	// wraps ErrUnknownDriver and lists the valid ones.
	UnknownDriver
	// NoConfig: data.config or spec.config is missing.
	NoConfig
	// Syntax: data.config is not JSON (or is written as a YAML map); Line
	// and Column locate the error inside it.
	Syntax
	// Schema: the config fails the driver's schema at Pointer.
	Schema
	// WrongAPIVersion: a Connection's apiVersion is not APIVersion.
	WrongAPIVersion
)

// Problem is one thing wrong with a connection config.
type Problem struct {
	Kind ProblemKind
	// Field is the path of the field, for example ["data", "config"].
	Field []string
	// Pointer is the JSON pointer inside the config of a Schema problem.
	Pointer string
	// Line and Column locate a Syntax problem inside data.config (0:
	// unknown).
	Line, Column int
	Err          error
}

// FieldString is the field as messages name it: "data.config", or with the
// pointer of a Schema problem, "data.config/component".
func (p Problem) FieldString() string { return strings.Join(p.Field, ".") + p.Pointer }

// DataField is data, or spec for a Connection resource.
func (c *Connection) DataField() string {
	if c.Form == Resource {
		return "spec"
	}
	return "data"
}

// DriverKey is "provider" or "driver": the key that names the driver.
func (c *Connection) DriverKey() string {
	if c.Form == ConfigMapProvider {
		return "provider"
	}
	return "driver"
}

// DriverField is data.provider, data.driver or spec.driver.
func (c *Connection) DriverField() []string { return []string{c.DataField(), c.DriverKey()} }

// ConfigField is data.config or spec.config.
func (c *Connection) ConfigField() []string { return []string{c.DataField(), "config"} }

// Object names the object as "Kind namespace/name" (or "Kind name").
func (c *Connection) Object() string {
	return objref.Ref{Kind: c.Form.Kind(), Namespace: c.Namespace, Name: c.Name}.String()
}

// KnownDriver says whether Gatekeeper reads the driver from the config's
// form: dapr from a ConfigMap; dapr and disk from a Connection.
func (c *Connection) KnownDriver() bool {
	return slices.Contains(schemas.DriversFor(c.Form.SchemaForm()), c.Driver)
}

// Problem returns the first problem of a kind, if any.
func (c *Connection) Problem(kind ProblemKind) (Problem, bool) {
	for _, p := range c.Problems {
		if p.Kind == kind {
			return p, true
		}
	}
	return Problem{}, false
}

// Err is the first problem as an *Error naming the source, the object and
// the field; nil when there is none.
func (c *Connection) Err() error {
	if len(c.Problems) == 0 {
		return nil
	}
	p := c.Problems[0]
	return &Error{Source: c.Source, Object: c.Object(), Field: p.FieldString(), Err: p.Err}
}

func (c *Connection) problem(p Problem) { c.Problems = append(c.Problems, p) }

// FromObject reads a connection config from a decoded ConfigMap or
// Connection object (its kind decides); namespace is used when the object
// has no metadata.namespace. Everything wrong with it is in Problems.
func FromObject(obj map[string]any, namespace string) *Connection {
	meta, _ := obj["metadata"].(map[string]any)
	c := &Connection{Name: str(meta["name"]), Namespace: str(meta["namespace"])}
	if c.Namespace == "" {
		c.Namespace = namespace
	}
	if kind, _ := obj["kind"].(string); kind == "Connection" {
		c.Form = Resource
		c.fromResource(obj)
	} else {
		c.fromConfigMap(obj)
	}
	return c
}

func (c *Connection) fromConfigMap(obj map[string]any) {
	data, ok := obj["data"].(map[string]any)
	c.HasData = ok && data != nil
	if _, ok := data["provider"]; !ok {
		if _, ok := data["driver"]; ok {
			c.Form = ConfigMapDriver // Gatekeeper v3.19 names the key "driver"
		}
	}
	if v, ok := data[c.DriverKey()]; ok {
		c.Driver, c.HasDriver = Scalar(v), true
	}
	if v, ok := data["config"]; ok {
		c.HasConfig = true
		switch v.(type) {
		case map[string]any, []any:
			c.ConfigNotString = true
		default:
			c.ConfigRaw = Scalar(v)
		}
	}
	if !c.checkDriver("a connection ConfigMap needs data.provider and data.config") {
		return
	}
	switch {
	case !c.HasConfig:
		c.problem(Problem{Kind: NoConfig, Field: c.ConfigField(), Err: errors.New(`missing: a JSON object such as {"component": "pubsub"}`)})
	case c.ConfigNotString:
		c.problem(Problem{Kind: Syntax, Field: c.ConfigField(), Err: errors.New("is written as a YAML map, but ConfigMap data values are strings " +
			"(Kubernetes rejects the ConfigMap): write config as a JSON string, for example `config: '{\"component\": \"pubsub\"}'` " +
			"or a block scalar `config: |` followed by the JSON")})
	default:
		c.decode()
	}
}

func (c *Connection) fromResource(obj map[string]any) {
	if api, _ := obj["apiVersion"].(string); api != APIVersion {
		c.problem(Problem{Kind: WrongAPIVersion, Field: []string{"apiVersion"}, Err: fmt.Errorf("is %q, want %s", api, APIVersion)})
	}
	spec, ok := obj["spec"].(map[string]any)
	c.HasData = ok && spec != nil
	if v, ok := spec["driver"]; ok {
		c.Driver, c.HasDriver = Scalar(v), true
	}
	config, hasConfig := spec["config"]
	c.HasConfig = hasConfig && config != nil
	if !c.checkDriver("a Connection needs spec.driver and spec.config") {
		return
	}
	if !c.HasConfig {
		c.problem(Problem{Kind: NoConfig, Field: c.ConfigField(), Err: errors.New("missing: an object such as {component: pubsub}")})
		return
	}
	c.Config, _ = config.(map[string]any)
	if !c.KnownDriver() {
		return
	}
	if err := ValidateConfig(c.Driver, config); err != nil {
		c.schemaProblem(err)
	}
}

// checkDriver records the problems of data and the driver; false when the
// config cannot be read further.
func (c *Connection) checkDriver(needs string) bool {
	valid := strings.Join(schemas.DriversFor(c.Form.SchemaForm()), ", ")
	switch {
	case !c.HasData:
		c.problem(Problem{Kind: NoData, Field: []string{c.DataField()}, Err: errors.New("missing: " + needs)})
		return false
	case !c.HasDriver || strings.TrimSpace(c.Driver) == "":
		c.problem(Problem{Kind: NoDriver, Field: c.DriverField(), Err: fmt.Errorf("missing: set it to one of %s", valid)})
		return true
	}
	if err := CheckDriver(c.Form.SchemaForm(), c.Driver); err != nil {
		c.problem(Problem{Kind: UnknownDriver, Field: c.DriverField(), Err: err})
	}
	return true
}

// decode decodes a ConfigMap's data.config, and validates it when the
// driver is known (for an unknown one only the JSON syntax is checked).
func (c *Connection) decode() {
	raw := []byte(c.ConfigRaw)
	v, err := decodeJSON(raw)
	if err != nil {
		line, col := syntaxPosition(raw, err)
		c.problem(Problem{Kind: Syntax, Field: c.ConfigField(), Line: line, Column: col, Err: err})
		return
	}
	c.Config, _ = v.(map[string]any)
	if !c.KnownDriver() {
		return
	}
	if err := ValidateConfig(c.Driver, v); err != nil {
		c.schemaProblem(err)
	}
}

func (c *Connection) schemaProblem(err error) {
	p := Problem{Kind: Schema, Field: c.ConfigField(), Err: err}
	var pe *PointerError
	if errors.As(err, &pe) {
		p.Pointer, p.Err = pe.Pointer, pe.Err
	}
	c.problem(p)
}

// Error says what is wrong with a connection config and where: the file
// (or other source), the object and the field.
type Error struct {
	// Source is the file the config came from ("" when not from a file).
	Source string
	// Object is "ConfigMap namespace/name" (or "Connection name", ...).
	Object string
	// Field is the field path, for example "data.config" or
	// "data.config/component" (a JSON pointer inside data.config).
	Field string
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	for _, s := range []string{e.Source, e.Object, e.Field} {
		if s != "" {
			b.WriteString(s)
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Scalar renders a YAML scalar as the string Kubernetes would store for it
// (a ConfigMap's data values are strings; numbers and booleans written
// unquoted are turned into their text).
func Scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return fmt.Sprint(t)
	}
}
