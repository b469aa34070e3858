// Package version is the one place the project's release version lives: the
// file VERSION next to this one. The Makefile reads it (image tags, make
// release), Go embeds it (every shipped command's --version, the release
// tool, SARIF output, the consumer's API), and a test requires
// charts/gatekeeper-pubsub/Chart.yaml's version to equal it. It imports
// nothing heavy, so every command can report it.
package version

import (
	_ "embed"
	"strings"
)

//go:embed VERSION
var raw string

// Version is the release version without a leading v, for example "0.1.0":
// the chart's version and the images' tag. The Go module's tag is "v" +
// Version.
var Version = strings.TrimSpace(raw)

// The facts pubsub-lint and the chart are built on: the Dapr release whose
// components-contrib metadata the schemas in schemas/ come from, and the
// Gatekeeper releases the chart renders for (publishing exists from v3.13;
// the newest release the tests run for real is v3.23.1).
const (
	Dapr          = "1.14.0"
	GatekeeperMin = "v3.13.0"
	GatekeeperMax = "v3.23.1"
)

// ModuleVersion is the Go module version of this release ("v0.1.0"), what
// `go install .../cmd/pubsub-lint@` takes.
func ModuleVersion() string { return "v" + Version }

// Repository is the project's source repository, the home of the module
// path: SARIF's informationUri, the images' source label and the base of
// every link to the documentation (RuleDocURL).
const Repository = "https://github.com/gatekeeper-pubsub/gatekeeper-pubsub"

// DocURL links to a file of the repository (path relative to its root,
// with an optional #anchor) at this release's tag, so a link printed by a
// binary shows the documentation of that binary.
func DocURL(path string) string { return Repository + "/blob/" + ModuleVersion() + "/" + path }
