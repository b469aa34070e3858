package model

import (
	"slices"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// Connection is a connection config among the inputs: the object, read by
// package connection as the publisher reads it (the typed value and its
// problems), with the field paths findings point at.
type Connection struct {
	Obj *Object
	*connection.Connection
}

func newConnection(o *Object) *Connection {
	return &Connection{Obj: o, Connection: connection.FromObject(o.Obj, o.NS)}
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
	return !slices.Contains(schemas.Providers(), c.Driver)
}

// DriversKnownBy lists the drivers Gatekeeper version v knows, sorted; for
// an unknown version (nil), only dapr, the driver of Gatekeeper's pubsub
// documentation.
func DriversKnownBy(v *Version) []string {
	if v == nil {
		return []string{"dapr"}
	}
	var out []string
	for _, n := range schemas.Providers() {
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
