package model

import (
	"errors"
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// Connection is a connection config among the inputs: the object, read by
// package connection as the publisher reads it (the typed value and its
// problems), with the field paths findings point at.
type Connection struct {
	Obj *Object
	*connection.Connection
	// Ignored are the config's keys that Gatekeeper ignores as written
	// (and replaces by their default); they are not among the Problems.
	Ignored []IgnoredKey
}

// IgnoredKey is a config key whose value Gatekeeper ignores, using its
// default instead.
type IgnoredKey struct {
	Key string
	// Value is the value as written (a JSON number, boolean, null...).
	Value any
	// Default is what Gatekeeper uses instead.
	Default string
	// Source says where Gatekeeper reads the key, for messages.
	Source string
}

// ignoredUnlessString are the config keys a driver reads only when they
// hold a JSON string, by driver, with the default it uses otherwise.
// Gatekeeper v3.23.1 pkg/export/disk unmarshalConfig:
//
//	ttl := maxConnectionAge // 10 * time.Minute
//	if ttlStr, ok := cfg["closedConnectionTTL"].(string); ok { ... }
//
// so `closedConnectionTTL: 600` (a number, as in Gatekeeper's own export
// documentation) is ignored, and the TTL is 10m.
var ignoredUnlessString = map[string]map[string]IgnoredKey{
	"disk": {"closedConnectionTTL": {Key: "closedConnectionTTL", Default: "10m",
		Source: "Gatekeeper's disk driver (v3.23.1 pkg/export/disk) reads it only as a string"}},
}

func newConnection(o *Object) *Connection {
	c := &Connection{Obj: o, Connection: connection.FromObject(o.Obj, o.NS)}
	c.ignoreNonStrings()
	return c
}

// ignoreNonStrings moves the keys Gatekeeper ignores unless they are
// strings (ignoredUnlessString) from the schema's problems to Ignored: the
// config is validated again without them, so that the problems left are
// what Gatekeeper rejects.
func (c *Connection) ignoreNonStrings() {
	keys := ignoredUnlessString[c.Driver]
	if len(keys) == 0 || c.Config == nil {
		return
	}
	if _, bad := c.Problem(connection.Schema); !bad {
		return
	}
	rest := make(map[string]any, len(c.Config))
	for k, v := range c.Config {
		ig, ok := keys[k]
		if _, isString := v.(string); ok && !isString {
			ig.Value = v
			c.Ignored = append(c.Ignored, ig)
			continue
		}
		rest[k] = v
	}
	if len(c.Ignored) == 0 {
		return
	}
	slices.SortFunc(c.Ignored, func(a, b IgnoredKey) int { return strings.Compare(a.Key, b.Key) })
	problems := c.Problems[:0:0]
	for _, p := range c.Problems {
		if p.Kind != connection.Schema {
			problems = append(problems, p)
		}
	}
	if err := connection.ValidateConfig(c.Driver, rest); err != nil {
		p := connection.Problem{Kind: connection.Schema, Field: c.ConfigField(), Err: err}
		var pe *connection.PointerError
		if errors.As(err, &pe) {
			p.Pointer, p.Err = pe.Pointer, pe.Err
		}
		problems = append(problems, p)
	}
	c.Problems = problems
}

// IsResource says whether the config is a Connection resource (v3.20+).
func (c *Connection) IsResource() bool { return c.Form == connection.Resource }

// DataPath is data (or spec for a Connection).
func (c *Connection) DataPath() Path { return P(c.DataField()) }

// DriverPath is data.provider, data.driver or spec.driver.
func (c *Connection) DriverPath() Path { return c.DataPath().Add(c.DriverKey()) }

// ConfigPath is data.config or spec.config.
func (c *Connection) ConfigPath() Path { return c.DataPath().Add("config") }

// IsDapr says whether the connection publishes through Dapr.
func (c *Connection) IsDapr() bool { return c.Driver == "dapr" }

// UsesDapr says whether the audit publishes through a Dapr sidecar: unless
// its connection config names another driver Gatekeeper knows (disk), it
// does (a missing or misspelt driver is reported by its own rules). When
// the connection config is not among the inputs, only a Gatekeeper that
// knows no other driver (before v3.20, or a version not read from the image)
// is taken to use Dapr: for a later one the driver is unknown. An audit pod
// with a pubsub-forward container uses Dapr whatever its driver: the
// forwarder sends the disk driver's files through the pod's daprd.
func (s *Setup) UsesDapr(a *Audit) bool {
	if len(a.Forwarders()) > 0 {
		return true
	}
	c := s.ConnectionOf(a)
	if c == nil {
		return len(DriversKnownBy(a.Version)) == 1
	}
	if !c.HasDriver || c.IsDapr() {
		return true
	}
	return !slices.Contains(schemas.Drivers(), c.Driver)
}

// DriversKnownBy lists the drivers Gatekeeper version v knows, sorted; for
// an unknown version (nil), only dapr, the driver of Gatekeeper's pubsub
// documentation.
func DriversKnownBy(v *Version) []string {
	if v == nil {
		return []string{"dapr"}
	}
	var out []string
	for _, n := range schemas.Drivers() {
		d, err := schemas.Driver(n)
		if err != nil {
			continue
		}
		since := ParseVersion(d.Since)
		if since == nil || v.AtLeast(since.Major, since.Minor) {
			out = append(out, n)
		}
	}
	return out
}
