package forward

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The disk driver writes a run to <run>.txt under an exclusive lock and
// renames it to <run>.log when the run is completed.
const (
	extWriting  = ".txt"
	extComplete = ".log"
)

// runFile is one run's file in the topic directory.
type runFile struct {
	// name is the file's name without extension: the run id with ':' as '_'.
	name string
	// complete: renamed to .log by the audit.
	complete bool
	size     int64
}

func (r runFile) path(dir string) string {
	if r.complete {
		return filepath.Join(dir, r.name+extComplete)
	}
	return filepath.Join(dir, r.name+extWriting)
}

// maxRunFiles bounds the files considered in one scan (the driver keeps at
// most maxAuditResults, 5, plus the one being written).
const maxRunFiles = 1000

// scanRuns lists the runs in dir, oldest first. The names are RFC 3339
// times in UTC, so their order is the runs' order. A run present as both
// .txt and .log (between the driver's rename steps, never on Linux) counts
// as complete. Other files are ignored.
func scanRuns(dir string) ([]runFile, error) {
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		// The driver makes the directory at the first run.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	defer d.Close()
	entries, err := d.ReadDir(maxRunFiles)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	byName := map[string]runFile{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		ext := filepath.Ext(e.Name())
		if ext != extWriting && ext != extComplete {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ext)
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		r := runFile{name: name, complete: ext == extComplete, size: info.Size()}
		if prev, ok := byName[name]; ok && prev.complete {
			continue
		}
		byName[name] = r
	}
	runs := make([]runFile, 0, len(byName))
	for _, r := range byName {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].name < runs[j].name })
	return runs, nil
}
