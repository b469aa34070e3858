// Package gomod fetches a Go module version through the module proxy (or
// finds it in the module cache) with the go command: how the tests and the
// generators get upstream inputs (Gatekeeper's charts and manifests, Dapr's
// components) without copying them into the repository.
package gomod

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
)

// Module is a downloaded module version.
type Module struct {
	// Dir is the module's source tree in the module cache (read-only).
	Dir string
	// GoMod is its go.mod file.
	GoMod string
}

// Download runs `go mod download -json module@version`.
func Download(ctx context.Context, module, version string) (Module, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, GoMod, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		return Module{}, fmt.Errorf("go mod download %s@%s: %w %s %s", module, version, err, info.Error, bytes.TrimSpace(stderr.Bytes()))
	}
	return Module{Dir: info.Dir, GoMod: info.GoMod}, nil
}
