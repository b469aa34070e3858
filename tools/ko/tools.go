//go:build tools

// Package tools pins ko so that `go mod tidy` keeps its dependencies; it is
// never compiled. `make tools-release` builds github.com/google/ko (the
// module root is ko's main package) with tools/build.sh.
package tools

import _ "github.com/google/ko"
