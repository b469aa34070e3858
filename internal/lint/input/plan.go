package input

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

type jobKind int

const (
	jobFile jobKind = iota
	jobChart
	jobKustomize
	jobStdin
	// jobError is an input that failed while the paths were expanded.
	jobError
)

type job struct {
	kind jobKind
	path string
	err  error // of a jobError
}

// plan expands the paths into jobs: a file, a chart, a kustomization,
// stdin, or an input error (a PATH that does not exist or is neither a
// regular file nor a directory). In directories only regular files (or
// links to one) are read; the others are skipped with a note.
func plan(paths []string) (jobs []job, notes []string, err error) {
	stdin := false
	for _, p := range paths {
		if p == StdinPath {
			if stdin {
				return nil, nil, errors.New("-: standard input given twice")
			}
			stdin = true
			jobs = append(jobs, job{kind: jobStdin, path: p})
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			jobs = append(jobs, job{kind: jobError, path: p, err: fmt.Errorf("reading %s: %w", p, err)})
		case fi.Mode().IsRegular():
			jobs = append(jobs, job{kind: jobFile, path: p})
		case fi.IsDir():
			jobs, notes = walk(p, jobs, notes)
		default:
			jobs = append(jobs, job{kind: jobError, path: p, err: fmt.Errorf("reading %s: %w or directory but %s; a PATH is a file, a directory or - (standard input)", p, ErrNotRegular, describeMode(fi.Mode()))})
		}
	}
	return jobs, notes, nil
}

// walk adds the jobs of directory root: root itself when it is a chart or
// a kustomization, else its YAML and JSON files and the charts and
// kustomizations below it, skipping hidden entries.
func walk(root string, jobs []job, notes []string) ([]job, []string) {
	if k, ok := dirKind(root); ok {
		return append(jobs, job{kind: k, path: root}), notes
	}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// A directory that cannot be read; what it did list is walked.
			jobs = append(jobs, job{kind: jobError, path: path, err: fmt.Errorf("reading %s: %w", path, err)})
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			if k, ok := dirKind(path); ok {
				jobs = append(jobs, job{kind: k, path: path})
				return filepath.SkipDir
			}
			return nil
		}
		manifest := false
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			manifest = true
		}
		t := d.Type()
		switch {
		case t.IsRegular():
			if manifest {
				jobs = append(jobs, job{kind: jobFile, path: path})
			}
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(path)
			switch {
			case err != nil:
				if manifest {
					jobs = append(jobs, job{kind: jobError, path: path, err: fmt.Errorf("reading %s: %w", path, err)})
				}
			case fi.Mode().IsRegular():
				if manifest {
					jobs = append(jobs, job{kind: jobFile, path: path})
				}
			case fi.IsDir():
				notes = append(notes, fmt.Sprintf("skipped %s: a symbolic link to a directory (links to directories are not followed)", path))
			default:
				if manifest {
					target, _ := os.Readlink(path)
					notes = append(notes, fmt.Sprintf("skipped %s: a symbolic link to %s (%s), not a regular file", path, describeMode(fi.Mode()), target))
				}
			}
		default:
			if manifest {
				notes = append(notes, fmt.Sprintf("skipped %s: %s, not a regular file", path, describeMode(t)))
			}
		}
		return nil
	})
	return jobs, notes
}

// dirKind tells a chart (Chart.yaml) or a kustomization directory.
func dirKind(dir string) (jobKind, bool) {
	if isRegular(filepath.Join(dir, "Chart.yaml")) {
		return jobChart, true
	}
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if isRegular(filepath.Join(dir, n)) {
			return jobKustomize, true
		}
	}
	return 0, false
}

// isRegular says whether p is a regular file, or a link to one.
func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
