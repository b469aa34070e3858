//go:build linux || darwin

package input

import (
	"errors"
	"path/filepath"
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

// TestReadRegularRefusesFIFO: a file that became a FIFO after it was
// planned is opened without blocking and refused.
func TestReadRegularRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "x.yaml")
	mkfifo(t, fifo)
	f := within(t, 5*time.Second, func() error {
		f, err := openNonBlocking(fifo)
		if err != nil {
			return err
		}
		return f.Close()
	})
	if f != nil {
		t.Fatalf("opening a FIFO without a writer: %v", f)
	}
	err := within(t, 5*time.Second, func() error {
		f, _, err := openRegular(fifo, 1<<20)
		if err == nil {
			f.Close()
		}
		return err
	})
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
		t.Errorf("openRegular(FIFO) = %v, want ErrNotRegular naming it", err)
	}
}
