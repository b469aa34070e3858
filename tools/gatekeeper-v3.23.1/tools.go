//go:build tools

// Package tools pins Gatekeeper's manager so that `go mod tidy` keeps its
// dependencies; it is never compiled.
package tools

import _ "github.com/open-policy-agent/gatekeeper/v3"
