//go:build tools

// Package tools pins the Dapr commands this module builds (daprd, the sidecar
// injector and Sentry) so that `go mod tidy` keeps their dependencies; it is
// never compiled.
package tools

import (
	_ "github.com/dapr/dapr/cmd/daprd"
	_ "github.com/dapr/dapr/cmd/injector"
	_ "github.com/dapr/dapr/cmd/sentry"
)
