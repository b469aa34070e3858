// Package disktest writes audit runs the way Gatekeeper v3.23's disk export
// driver does (pkg/export/disk/disk.go), for tests of the forwarder without
// a Gatekeeper: at a run's start, <path>/<topic>/ (0777) and the file
// <run id with ':' as '_'>.txt opened for appending under an exclusive
// flock; every message, markers included, one JSON line; at its end the
// lock released, the file closed and renamed to .log, and the oldest files
// of the directory by modification time deleted beyond maxAuditResults.
package disktest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// Writer is one connection of the disk driver.
type Writer struct {
	Path            string
	Topic           string
	MaxAuditResults int

	file *os.File
	run  string
}

// Dir is where the runs are written.
func (w *Writer) Dir() string { return filepath.Join(w.Path, w.Topic) }

// Start begins run id (RFC 3339) and writes its started marker.
func (w *Writer) Start(id string) error {
	w.run = strings.ReplaceAll(id, ":", "_")
	if err := os.MkdirAll(w.Dir(), 0o777); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(w.Dir(), w.run+".txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	w.file = f
	return w.Write(violation.AuditEvent{ID: id, Message: violation.AuditStarted})
}

// Write appends one message as a JSON line.
func (w *Writer) Write(msg any) error {
	if w.file == nil {
		return fmt.Errorf("failed to write violation: no file provided")
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = w.file.WriteString(string(b) + "\n")
	return err
}

// WriteRaw appends bytes as they are (a torn line, for a crash).
func (w *Writer) WriteRaw(b []byte) error {
	_, err := w.file.Write(b)
	return err
}

// Complete writes the completed marker, renames the run to .log and
// deletes the oldest files beyond MaxAuditResults.
func (w *Writer) Complete(id string) error {
	if err := w.Write(violation.AuditEvent{ID: id, Message: violation.AuditCompleted}); err != nil {
		return err
	}
	if err := syscall.Flock(int(w.file.Fd()), syscall.LOCK_UN); err != nil {
		return err
	}
	if err := w.file.Close(); err != nil {
		return err
	}
	w.file = nil
	done := filepath.Join(w.Dir(), w.run+".log")
	if err := os.Rename(filepath.Join(w.Dir(), w.run+".txt"), done); err != nil {
		return err
	}
	if err := os.Chmod(done, 0o777); err != nil {
		return err
	}
	return w.cleanup()
}

// Crash ends the run as a killed audit does: the file stays .txt, its lock
// goes with the process.
func (w *Writer) Crash() error {
	err := w.file.Close()
	w.file = nil
	return err
}

func (w *Writer) cleanup() error {
	type fileInfo struct {
		path string
		mod  time.Time
	}
	var files []fileInfo
	err := filepath.Walk(w.Dir(), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			files = append(files, fileInfo{p, info.ModTime()})
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for i := 0; i < len(files)-w.MaxAuditResults; i++ {
		if err := os.Remove(files[i].path); err != nil {
			return err
		}
	}
	return nil
}

// Run writes a whole run of n violations of run id, as an audit does.
func (w *Writer) Run(id string, n int) error {
	if err := w.Start(id); err != nil {
		return err
	}
	for i := range n {
		if err := w.Write(Violation(id, i)); err != nil {
			return err
		}
	}
	return w.Complete(id)
}

// Violation is the i-th violation of run id.
func Violation(id string, i int) violation.Violation {
	t, _ := time.Parse(time.RFC3339, id)
	v := violation.Example(t)
	v.ResourceName = fmt.Sprintf("pod-%06d", i)
	return v
}
