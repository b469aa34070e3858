//go:build tools

// Package tools pins nats-server so that `go mod tidy` keeps its
// dependencies; it is never compiled.
package tools

import _ "github.com/nats-io/nats-server/v2"
