package input

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// spoolFile is the temporary copy of standard input.
type spoolFile interface {
	io.WriteCloser
	Name() string
}

// newSpool makes the temporary copy of standard input. A test replaces it
// to make writes fail: a full disk is a fault no real part here shows.
var newSpool = func() (spoolFile, error) { return os.CreateTemp("", "pubsub-lint-stdin-*.yaml") }

// spoolWriter copies to the spool until a write fails; it never fails the
// read. Without a copy, findings on released Components point at the
// object's line, as for a file changed since it was read.
type spoolWriter struct {
	f   spoolFile
	err error
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	if w.err == nil {
		_, w.err = w.f.Write(p)
	}
	return len(p), nil
}

// readStdinSpooled streams standard input like a file and copies it to a
// temporary file: when Components are released their text goes, and the
// locator reads it again from that copy (removed by
// Loaded.Close). ok is false, with nothing read, when no
// temporary file can be made: the caller then reads it into memory.
func readStdinSpooled(in io.Reader, limit int64, sink Sink) (res Loaded, ok bool) {
	spool, err := newSpool()
	if err != nil {
		return Loaded{}, false
	}
	sum := crc32.NewIEEE()
	w := &spoolWriter{f: spool}
	res = stream(StdinSource, "standard input", in, 64<<10, limit, io.MultiWriter(w, sum), sink)
	if err := spool.Close(); w.err == nil {
		w.err = err
	}
	if res.failed() || !res.dropped || w.err != nil {
		os.Remove(spool.Name())
		if !res.failed() && res.dropped {
			res.Notes = append(res.Notes, fmt.Sprintf("standard input could not be copied to a temporary file (%v): findings on Dapr Components "+
				"read from it point at the object's first line, not at the field", w.err))
		}
		return res, true
	}
	res.Copies = map[string]TextCopy{StdinSource: {Path: spool.Name(), Sum: sum.Sum32(), Spool: true}}
	return res, true
}
