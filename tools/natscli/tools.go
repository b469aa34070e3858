//go:build tools

// Package tools pins the NATS CLI so that `go mod tidy` keeps its
// dependencies; it is never compiled.
package tools

import _ "github.com/nats-io/natscli/nats"
