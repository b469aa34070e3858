//go:build tools

// Package tools pins the distribution registry so that `go mod tidy` keeps its
// dependencies; it is never compiled.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
