package pubsub

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// PublisherDrivers are the drivers this publisher implements (a Driver
// of pkg/pubsub/dapr). Gatekeeper knows more (schemas.Drivers): their
// configs are validated, but a System cannot publish through them.
var PublisherDrivers = []string{"dapr"}

// ErrDriverNotSupported is returned for a connection whose driver
// Gatekeeper knows but this publisher does not implement, such as disk.
var ErrDriverNotSupported = errors.New("not supported by this publisher")

// ParseConnection reads a connection config in any of Gatekeeper's forms
// (package connection) and reports its first problem: the linter reports
// the same problems, from the same code. A config that Gatekeeper accepts
// but whose driver this publisher does not implement (disk) is an error
// wrapping ErrDriverNotSupported, after its config was validated. Errors
// are *connection.Error, naming the source, the object and the field.
func ParseConnection(source string, data []byte) (*connection.Connection, error) {
	c, err := connection.Parse(source, data)
	if err != nil {
		return nil, err
	}
	return usable(c)
}

// ReadConnectionDir is ParseConnection for a ConfigMap mounted as a
// directory (connection.ReadDir).
func ReadConnectionDir(dir string) (*connection.Connection, error) {
	c, err := connection.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return usable(c)
}

func usable(c *connection.Connection) (*connection.Connection, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	if err := CheckPublisherDriver(c.Driver); err != nil {
		return nil, &connection.Error{Source: c.Source, Object: c.Object(), Field: strings.Join(c.DriverField(), "."), Err: err}
	}
	return c, nil
}

// CheckPublisherDriver says whether this publisher implements the driver.
// The error wraps ErrDriverNotSupported.
func CheckPublisherDriver(driver string) error {
	if slices.Contains(PublisherDrivers, driver) {
		return nil
	}
	return fmt.Errorf("driver %q is %w: it publishes through %s only (Gatekeeper's audit exports to %s itself)",
		driver, ErrDriverNotSupported, strings.Join(PublisherDrivers, ", "), driver)
}
