package procs

import (
	"context"
	"fmt"
	"os/exec"
)

// GoBuild builds the project's packages (like "./cmd/violations") into
// dir, from the repository's root.
func GoBuild(ctx context.Context, dir string, pkgs ...string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %w: %s", pkgs, err, out)
	}
	return nil
}
