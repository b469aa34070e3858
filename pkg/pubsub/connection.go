// Package pubsub is the embedded publisher: a System of named connections,
// each made by a driver from a connection config, with Gatekeeper's
// contract (UpsertConnection, Publish, CloseConnection) so it can stand in
// for Gatekeeper's own pkg/pubsub.
package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Connection publishes messages to topics of one broker connection. The
// method set is Gatekeeper's (v3.13-v3.18 pkg/pubsub/connection).
type Connection interface {
	// Publish sends data to topic. data is encoded as JSON unless it is
	// already []byte. It honours ctx's deadline and cancellation.
	Publish(ctx context.Context, data any, topic string) error
	// CloseConnection releases the connection's resources.
	CloseConnection() error
	// UpdateConnection applies a new config of the same driver.
	UpdateConnection(ctx context.Context, config any) error
}

// Flusher is a Connection that queues: Flush waits until what was
// published so far is sent or has failed.
type Flusher interface {
	Flush(ctx context.Context) error
}

// ContextCloser is a Connection that can drain within a deadline on close.
type ContextCloser interface {
	Close(ctx context.Context) error
}

// Driver makes connections of one kind, named as a connection names its
// driver (a Connection's spec.driver, a ConfigMap's data.driver or, up to
// Gatekeeper v3.18, data.provider).
type Driver struct {
	// Name is the driver's name, for example "dapr".
	Name string
	// Schema names the schema its config must pass (see package schemas);
	// default "connection-config.<Name>".
	Schema string
	// New makes a connection from a config that is already decoded and
	// passed the driver's schema (schemas/connection-config.<name>.schema.json):
	// it does not validate it again.
	New func(ctx context.Context, config map[string]any) (Connection, error)
}

// schema is the name of the connection config schema the driver's
// config must pass, as package connection names it ("dapr").
func (p Driver) schema() string {
	if p.Schema == "" {
		return p.Name
	}
	return strings.TrimPrefix(p.Schema, "connection-config.")
}

// ErrUnknownConnection is returned for a connection name that was never
// upserted or has been closed.
var ErrUnknownConnection = errors.New("no such connection")

// ErrUnknownDriver is returned for a driver that is not registered,
// and for a driver Gatekeeper does not read from a config's form (it is
// connection.ErrUnknownDriver).
var ErrUnknownDriver = connection.ErrUnknownDriver

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
