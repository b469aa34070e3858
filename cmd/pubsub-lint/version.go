package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// versionInfo is what `pubsub-lint version` reports: the release (one
// version for the binary, the chart and the images) and the Dapr and
// Gatekeeper releases whose facts the rules know.
type versionInfo struct {
	Version string `json:"version"`
	// Module is the Go module version the binary was built from, as `go
	// install .../cmd/pubsub-lint@v0.1.0` stamps it ("(devel)" from a
	// checkout).
	Module     string          `json:"module,omitempty"`
	Go         string          `json:"go"`
	Platform   string          `json:"platform"`
	Dapr       string          `json:"dapr"`
	Gatekeeper gatekeeperRange `json:"gatekeeper"`
}

type gatekeeperRange struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

func currentVersion() versionInfo {
	v := versionInfo{
		Version: version.Version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Dapr:       version.Dapr,
		Gatekeeper: gatekeeperRange{Min: version.GatekeeperMin, Max: version.GatekeeperMax},
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Module = bi.Main.Version
	}
	return v
}

// printVersion is `pubsub-lint version [-o|--format text|json]` (and --version).
func printVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pubsub-lint version", stderr)
	format := fs.String("format", "text", "text or json")
	fs.StringVar(format, "o", "text", "same as --format")
	if err := fs.Parse(args); err != nil {
		return parseError(fs, err, "usage: pubsub-lint version [-o text|json]\n\nPrints the version and the Dapr and Gatekeeper releases the rules know.\n\nflags:", stdout, stderr)
	}
	if fs.NArg() > 0 {
		return usage(stderr, "version takes no arguments, got %q", fs.Args())
	}
	v := currentVersion()
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "pubsub-lint: %v\n", err)
			return 2
		}
	case "text":
		fmt.Fprintf(stdout, "pubsub-lint %s\n", v.Version)
		if v.Module != "" {
			fmt.Fprintf(stdout, "  module:     %s\n", v.Module)
		}
		fmt.Fprintf(stdout, "  go:         %s %s\n", v.Go, v.Platform)
		fmt.Fprintf(stdout, "  dapr:       %s (components-contrib pubsub metadata, Component CRD, sidecar injector)\n", v.Dapr)
		fmt.Fprintf(stdout, "  gatekeeper: %s - %s (--enable-pub-sub v3.13-v3.18, --enable-violation-export v3.19, Connection v3.20+)\n", v.Gatekeeper.Min, v.Gatekeeper.Max)
	default:
		return usage(stderr, "version --format %q: want text or json", *format)
	}
	return 0
}
