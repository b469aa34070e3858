//go:build linux || darwin

package lint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test when it takes longer than d (a FIFO
// opened for reading blocks until a writer comes: forever here).
func within[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("still running after %v: hung on a FIFO or reading an endless file?", d)
		panic("unreachable")
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

type runResult struct {
	res *Result
	err error
}

// TestDirectorySkipsIrregularFiles: in a directory only regular files, and
// links to one, are read; FIFOs, devices and links to them are skipped
// with a note instead of hanging or reading forever.
func TestDirectorySkipsIrregularFiles(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Fatal("no /dev/zero on this machine")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"conn.yaml":          badConnection,
		"elsewhere/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: linked}\n",
		"fifo-dir/Chart.txt": "not a chart",
	})
	mkfifo(t, filepath.Join(dir, "fifo.yaml"))
	mkfifo(t, filepath.Join(dir, "fifo.txt")) // not a manifest: ignored without a note
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.txt"))
	symlink(t, filepath.Join(dir, "elsewhere", "cm.yaml"), filepath.Join(dir, "linked.yaml"))
	symlink(t, filepath.Join(dir, "elsewhere"), filepath.Join(dir, "linked-dir"))
	symlink(t, filepath.Join(dir, "gone.yaml"), filepath.Join(dir, "dangling.yaml"))
	// A FIFO named like a chart's or a kustomization's file does not make
	// its directory one (helm or kustomize would block reading it).
	mkfifo(t, filepath.Join(dir, "fifo-dir", "Chart.yaml"))
	mkfifo(t, filepath.Join(dir, "fifo-dir", "kustomization.yaml"))

	r := within(t, 10*time.Second, func() runResult {
		res, err := Run(context.Background(), Options{Paths: []string{dir}})
		return runResult{res, err}
	})
	if r.res == nil {
		t.Fatalf("no result: %v", r.err)
	}
	for _, want := range []string{
		"skipped " + filepath.Join(dir, "fifo-dir", "Chart.yaml") + ": a named pipe (FIFO), not a regular file",
		"skipped " + filepath.Join(dir, "fifo-dir", "kustomization.yaml") + ": a named pipe (FIFO), not a regular file",
		"skipped " + filepath.Join(dir, "fifo.yaml") + ": a named pipe (FIFO), not a regular file",
		"skipped " + filepath.Join(dir, "linked-dir") + ": a symbolic link to a directory (links to directories are not followed)",
		"skipped " + filepath.Join(dir, "zero.yaml") + ": a symbolic link to a character device (/dev/zero), not a regular file",
	} {
		if !slices.Contains(r.res.Notes, want) {
			t.Errorf("no note %q", want)
		}
	}
	for _, n := range r.res.Notes {
		if strings.Contains(n, ".txt") {
			t.Errorf("note on a file that is not a manifest: %q", n)
		}
	}
	// The dangling link is an input error; the link to a regular file is
	// read (elsewhere/cm.yaml also on its own).
	if len(r.res.Errors) != 1 || !errors.Is(r.res.Errors[0], os.ErrNotExist) || !strings.Contains(r.res.Errors[0].Error(), "dangling.yaml") {
		t.Errorf("input errors %v, want the dangling link", r.res.Errors)
	}
	if r.res.Files != 3 || r.res.Objects != 3 {
		t.Errorf("read %d objects in %d files, want 3 in 3", r.res.Objects, r.res.Files)
	}
	if !slices.ContainsFunc(r.res.Findings, func(f Finding) bool { return f.Rule == "connection-driver-unknown" }) {
		t.Error("conn.yaml was not linted")
	}
}

// TestExplicitPathNotRegular: a PATH that is neither a regular file nor a
// directory is an input error, found without reading or opening it.
func TestExplicitPathNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.yaml")
	mkfifo(t, fifo)
	link := filepath.Join(dir, "link.yaml")
	symlink(t, fifo, link)
	writeFiles(t, dir, map[string]string{"conn.yaml": badConnection})
	for _, tt := range []struct {
		path, what string
	}{
		{"/dev/zero", "a character device"},
		{"/dev/null", "a character device"},
		{fifo, "a named pipe (FIFO)"},
		{link, "a named pipe (FIFO)"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := within(t, 10*time.Second, func() runResult {
				res, err := Run(context.Background(), Options{Paths: []string{tt.path, filepath.Join(dir, "conn.yaml")}})
				return runResult{res, err}
			})
			if r.res == nil {
				t.Fatalf("no result: %v", r.err)
			}
			want := "reading " + tt.path + ": not a regular file or directory but " + tt.what
			if len(r.res.Errors) != 1 || !errors.Is(r.res.Errors[0], ErrNotRegular) || !strings.Contains(r.res.Errors[0].Error(), want) {
				t.Errorf("input errors %v, want %q", r.res.Errors, want)
			}
			if r.res.Files != 1 {
				t.Errorf("read %d files, want conn.yaml", r.res.Files)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestValuesFileDevice: a values file or --set-file that is a device is an
// input error of each chart, not an endless read.
func TestValuesFileDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Fatal("no /dev/zero on this machine")
	}
	chart := filepath.Join(t.TempDir(), "tiny")
	tinyChart(t, chart)
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"values", Options{Paths: []string{chart}, ValueFiles: []string{"/dev/zero"}}, "--values /dev/zero: not a regular file but a character device"},
		{"set-file", Options{Paths: []string{chart}, SetFile: []string{"config=/dev/zero"}}, "--set-file /dev/zero: not a regular file but a character device"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := within(t, 10*time.Second, func() runResult {
				res, err := Run(context.Background(), tt.opts)
				return runResult{res, err}
			})
			if r.res == nil || len(r.res.Errors) != 1 || !errors.Is(r.res.Errors[0], ErrNotRegular) || !strings.Contains(r.res.Errors[0].Error(), tt.want) || !strings.Contains(r.res.Errors[0].Error(), chart) {
				t.Errorf("Run = %+v, %v; want one input error naming the chart and %q", r.res, r.err, tt.want)
			}
		})
	}
}
