package render

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkSymlinks refuses a chart directory with a symlink that leads out of
// it: Helm's loader follows it, so a template's .Files.Get of it would
// read (and a finding could print) any file the linter can read. A
// packaged chart (a file) holds no symlinks.
func checkSymlinks(dir string) error {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return nil // the loader reports a missing or packaged chart
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("chart %s: %w", dir, err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("chart %s: %s is a symlink that leads nowhere (%w)", dir, relTo(root, path), err)
		}
		if target != root && !strings.HasPrefix(target, root+string(filepath.Separator)) {
			return fmt.Errorf("chart %s: %s is a symlink to %s, outside the chart; refusing to load it (a template could read that file into its output)", dir, relTo(root, path), target)
		}
		return nil
	})
}

func relTo(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
