//go:build tools

// Package tools pins the daprd command so that `go mod tidy` keeps its
// dependencies; it is never compiled.
package tools

import _ "github.com/dapr/dapr/cmd/daprd"
