package model

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// Connection is a connection config: a ConfigMap with data.provider (up to
// Gatekeeper v3.18) or data.driver (v3.19), or a Connection resource
// (connection.gatekeeper.sh, v3.20+).
type Connection struct {
	Obj       *Object
	Resource  bool
	Name      string
	Namespace string
	// HasData: the ConfigMap has data (the Connection has spec).
	HasData bool
	// ProviderKey is "provider" or "driver": the key that names the provider.
	ProviderKey string
	Provider    string
	HasProvider bool
	ConfigRaw   string
	HasConfig   bool
	// ConfigNotString is true when a ConfigMap's data.config is written as
	// a YAML map or list instead of a (JSON) string.
	ConfigNotString bool
	// ConfigObj is spec.config of a Connection resource.
	ConfigObj any

	once sync.Once
	cfg  map[string]any
	err  error
}

func newConnectionConfigMap(o *Object) *Connection {
	c := &Connection{Obj: o, Name: o.Name(), Namespace: o.NS, ProviderKey: "provider"}
	data, ok := o.Obj["data"].(map[string]any)
	c.HasData = ok && data != nil
	if _, ok := data["provider"]; !ok {
		if _, ok := data["driver"]; ok {
			c.ProviderKey = "driver"
		}
	}
	if v, ok := data[c.ProviderKey]; ok {
		c.Provider, c.HasProvider = scalar(v), true
	}
	if v, ok := data["config"]; ok {
		c.ConfigRaw, c.HasConfig = scalar(v), true
		switch v.(type) {
		case map[string]any, []any:
			c.ConfigNotString = true
		}
	}
	return c
}

func newConnectionResource(o *Object) *Connection {
	c := &Connection{Obj: o, Resource: true, Name: o.Name(), Namespace: o.NS, ProviderKey: "driver"}
	spec, ok := o.Obj["spec"].(map[string]any)
	c.HasData = ok && spec != nil
	if v, ok := spec["driver"]; ok {
		c.Provider, c.HasProvider = scalar(v), true
	}
	if v, ok := spec["config"]; ok {
		c.ConfigObj, c.HasConfig = v, true
	}
	return c
}

// Form names the config's form for messages.
func (c *Connection) Form() string {
	switch {
	case c.Resource:
		return "a Connection resource"
	case c.ProviderKey == "driver":
		return "a ConfigMap with data.driver"
	default:
		return "a ConfigMap with data.provider"
	}
}

// DataPath is data (or spec for a Connection).
func (c *Connection) DataPath() Path {
	if c.Resource {
		return P("spec")
	}
	return P("data")
}

// ProviderPath is data.provider, data.driver or spec.driver.
func (c *Connection) ProviderPath() Path { return c.DataPath().Add(c.ProviderKey) }

// ConfigPath is data.config or spec.config.
func (c *Connection) ConfigPath() Path { return c.DataPath().Add("config") }

// SchemaForm is the config's form as package schemas names it:
// schemas.FormConnection or schemas.FormConfigMap.
func (c *Connection) SchemaForm() string {
	if c.Resource {
		return schemas.FormConnection
	}
	return schemas.FormConfigMap
}

// KnownProvider says whether Gatekeeper knows the provider (driver) in the
// config's form: dapr in a ConfigMap; dapr and disk in a Connection.
func (c *Connection) KnownProvider() bool {
	return slices.Contains(schemas.DriversFor(c.SchemaForm()), c.Provider)
}

// IsDapr says whether the connection publishes through Dapr.
func (c *Connection) IsDapr() bool { return c.Provider == "dapr" }

// UsesDapr says whether the audit publishes through a Dapr sidecar: unless
// its connection config names another driver Gatekeeper knows (disk), it
// does (dapr is the only provider up to v3.19, and a missing or misspelt
// provider is reported by its own rules).
func (s *Setup) UsesDapr(a *Audit) bool {
	c := s.ConnectionOf(a)
	if c == nil || !c.HasProvider || c.IsDapr() {
		return true
	}
	return !slices.Contains(schemas.Providers(), c.Provider)
}

// ConfigProblem is what is wrong with a connection config's config.
type ConfigProblem struct {
	// Syntax is true for JSON syntax errors (and a missing config).
	Syntax bool
	// Pointer is the JSON pointer of a schema problem.
	Pointer string
	// Line and Column locate a syntax error inside data.config (0: unknown).
	Line, Column int
	Err          error
}

func (p *ConfigProblem) Error() string { return p.Err.Error() }
func (p *ConfigProblem) Unwrap() error { return p.Err }

// Decode decodes and validates the config as the publisher does
// (pkg/pubsub), once. The error is a *ConfigProblem. For an unknown
// provider only the JSON syntax is checked.
func (c *Connection) Decode() (map[string]any, error) {
	c.once.Do(func() { c.cfg, c.err = c.decode() })
	return c.cfg, c.err
}

func (c *Connection) decode() (map[string]any, error) {
	if !c.HasConfig {
		return nil, &ConfigProblem{Syntax: true, Err: errors.New(`missing: it must hold a JSON object such as {"component": "pubsub"}`)}
	}
	if c.ConfigNotString {
		return nil, &ConfigProblem{Syntax: true, Err: errors.New("is written as a YAML map, but ConfigMap data values are strings " +
			"(Kubernetes rejects the ConfigMap): write config as a JSON string, for example `config: '{\"component\": \"pubsub\"}'` " +
			"or a block scalar `config: |` followed by the JSON")}
	}
	if c.Resource {
		if !c.KnownProvider() {
			m, _ := c.ConfigObj.(map[string]any)
			return m, nil
		}
		if err := pubsub.ValidateConfig(c.Provider, c.ConfigObj); err != nil {
			return nil, schemaProblem(err)
		}
		m, _ := c.ConfigObj.(map[string]any)
		return m, nil
	}
	if !c.KnownProvider() {
		var v any
		dec := json.NewDecoder(strings.NewReader(c.ConfigRaw))
		if err := dec.Decode(&v); err != nil {
			return nil, syntaxProblem(c.ConfigRaw, err)
		}
		m, _ := v.(map[string]any)
		return m, nil
	}
	m, err := pubsub.DecodeConfig(c.Provider, []byte(c.ConfigRaw))
	if err != nil {
		var pe *pubsub.PointerError
		if errors.As(err, &pe) {
			return nil, schemaProblem(err)
		}
		return nil, syntaxProblem(c.ConfigRaw, err)
	}
	return m, nil
}

func schemaProblem(err error) *ConfigProblem {
	var pe *pubsub.PointerError
	if errors.As(err, &pe) {
		return &ConfigProblem{Pointer: pe.Pointer, Err: pe.Err}
	}
	return &ConfigProblem{Err: err}
}

func syntaxProblem(raw string, err error) *ConfigProblem {
	p := &ConfigProblem{Syntax: true, Err: err}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case strings.TrimSpace(raw) != "":
		off = int64(len(strings.TrimRight(raw, " \t\r\n")))
	}
	if off >= 0 {
		p.Line, p.Column = 1, 1
		for i := int64(0); i < off-1 && i < int64(len(raw)); i++ {
			if raw[i] == '\n' {
				p.Line++
				p.Column = 1
			} else {
				p.Column++
			}
		}
	}
	return p
}
