//go:build tools

// Package tools pins etcd so that `go mod tidy` keeps its dependencies; it is
// never compiled.
package tools

import _ "go.etcd.io/etcd/server/v3"
