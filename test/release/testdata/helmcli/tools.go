//go:build tools

// Package tools pins Helm's CLI (helm.sh/helm/v3/cmd/helm), which
// test/release builds to install and run the Helm plugin as Helm does. The
// versions follow the product's go.mod so the build shares its cache.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
