//go:build tools

// Package tools pins golangci-lint so that `go mod tidy` keeps its
// dependencies; it is never compiled. `make tools-golangci-lint` builds
// github.com/golangci/golangci-lint/v2/cmd/golangci-lint with tools/build.sh.
package tools

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
