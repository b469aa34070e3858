package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// System holds the named connections of one process and routes publishes
// to them. It is safe for concurrent use.
type System struct {
	drivers map[string]Driver

	mu          sync.RWMutex
	connections map[string]Connection
	usedBy      map[string]string // connection name -> driver name
}

// NewSystem returns a System that can make connections with the given
// drivers.
func NewSystem(drivers ...Driver) *System {
	s := &System{
		drivers:     make(map[string]Driver, len(drivers)),
		connections: map[string]Connection{},
		usedBy:      map[string]string{},
	}
	for _, p := range drivers {
		s.drivers[p.Name] = p
	}
	return s
}

// Drivers lists the names of the drivers the System can use.
func (s *System) Drivers() []string {
	out := make([]string, 0, len(s.drivers))
	for n := range s.drivers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// UpsertConnection creates the connection called name, or updates it. A
// connection whose driver changes is closed and made anew. config is a
// map[string]any (as decoded from data.config) or any value that encodes to
// such a JSON object; it must pass the driver's schema.
func (s *System) UpsertConnection(ctx context.Context, config any, name, driver string) error {
	p, err := s.lookup(name, driver)
	if err != nil {
		return err
	}
	cfg, err := normalize(p.schema(), config)
	if err != nil {
		return fmt.Errorf("upserting connection %q: config: %w", name, err)
	}
	return s.upsert(ctx, p, name, cfg)
}

// Upsert creates or updates the connection c read by ParseConnection or
// ReadConnectionDir (package connection), named c.Name and using
// c.Driver. Its config was decoded and checked against the driver's schema
// there, so it is not checked again (unless the driver has a schema of
// its own); a c with problems is refused with its first one.
func (s *System) Upsert(ctx context.Context, c *connection.Connection) error {
	if err := c.Err(); err != nil {
		return fmt.Errorf("upserting connection %q: %w", c.Name, err)
	}
	p, err := s.lookup(c.Name, c.Driver)
	if err != nil {
		return err
	}
	if schema := p.schema(); schema != c.Driver {
		if err := connection.ValidateConfig(schema, c.Config); err != nil {
			return fmt.Errorf("upserting connection %q: config: %w", c.Name, err)
		}
	}
	return s.upsert(ctx, p, c.Name, c.Config)
}

// lookup returns the driver for a connection called name.
func (s *System) lookup(name, driver string) (Driver, error) {
	if name == "" {
		return Driver{}, errors.New("upserting connection: empty connection name")
	}
	p, ok := s.drivers[driver]
	if !ok {
		return Driver{}, fmt.Errorf("upserting connection %q: %w %q: valid drivers are %s", name, ErrUnknownDriver, driver, strings.Join(s.Drivers(), ", "))
	}
	return p, nil
}

func (s *System) upsert(ctx context.Context, p Driver, name string, cfg map[string]any) error {
	driver := p.Name
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.connections[name]; ok {
		if s.usedBy[name] == driver {
			if err := old.UpdateConnection(ctx, cfg); err != nil {
				return fmt.Errorf("updating connection %q: %w", name, err)
			}
			return nil
		}
		delete(s.connections, name)
		delete(s.usedBy, name)
		if err := old.CloseConnection(); err != nil {
			return fmt.Errorf("closing connection %q before changing its driver to %q: %w", name, driver, err)
		}
	}
	conn, err := p.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("creating connection %q with driver %q: %w", name, driver, err)
	}
	s.connections[name] = conn
	s.usedBy[name] = driver
	return nil
}

// Publish sends msg to topic through the named connection.
func (s *System) Publish(ctx context.Context, connection, topic string, msg any) error {
	s.mu.RLock()
	conn, ok := s.connections[connection]
	s.mu.RUnlock()
	if !ok {
		return fmt.Errorf("publishing to %q: %w %q", topic, ErrUnknownConnection, connection)
	}
	if err := conn.Publish(ctx, msg, topic); err != nil {
		return fmt.Errorf("publishing to %q through connection %q: %w", topic, connection, err)
	}
	return nil
}

// CloseConnection closes and forgets the named connection.
func (s *System) CloseConnection(connection string) error {
	s.mu.Lock()
	conn, ok := s.connections[connection]
	delete(s.connections, connection)
	delete(s.usedBy, connection)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("closing: %w %q", ErrUnknownConnection, connection)
	}
	if err := conn.CloseConnection(); err != nil {
		return fmt.Errorf("closing connection %q: %w", connection, err)
	}
	return nil
}

// Connection returns the named connection, for drivers' extra methods.
func (s *System) Connection(name string) (Connection, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.connections[name]
	return c, ok
}

// Flush waits until every message published through the named connection
// so far is sent or has failed, for connections that queue (Flusher).
func (s *System) Flush(ctx context.Context, connection string) error {
	s.mu.RLock()
	conn, ok := s.connections[connection]
	s.mu.RUnlock()
	if !ok {
		return fmt.Errorf("flushing: %w %q", ErrUnknownConnection, connection)
	}
	if f, ok := conn.(Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("flushing connection %q: %w", connection, err)
		}
	}
	return nil
}

// Close closes every connection, draining queues within ctx, and returns
// their errors joined.
func (s *System) Close(ctx context.Context) error {
	s.mu.Lock()
	conns := s.connections
	s.connections = map[string]Connection{}
	s.usedBy = map[string]string{}
	s.mu.Unlock()
	var errs []error
	for name, c := range conns {
		var err error
		if cc, ok := c.(ContextCloser); ok {
			err = cc.Close(ctx)
		} else {
			err = c.CloseConnection()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("closing connection %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// normalize turns config into a map and validates it with the driver's
// schema.
func normalize(driver string, config any) (map[string]any, error) {
	var raw []byte
	switch c := config.(type) {
	case map[string]any:
		if err := connection.ValidateConfig(driver, c); err != nil {
			return nil, err
		}
		return c, nil
	case []byte:
		raw = c
	case string:
		raw = []byte(c)
	default:
		b, err := jsonMarshal(c)
		if err != nil {
			return nil, fmt.Errorf("encoding config: %w", err)
		}
		raw = b
	}
	return connection.DecodeConfig(driver, raw)
}
