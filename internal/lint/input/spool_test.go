package input

import (
	"context"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// fullDisk is a spool whose writes fail after a few bytes, as on a full
// disk: a fault no real part here shows.
type fullDisk struct {
	n    int
	name string
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if f.n+len(p) > 100 {
		return 0, errors.New("no space left on device")
	}
	f.n += len(p)
	return len(p), nil
}
func (f *fullDisk) Close() error { return nil }
func (f *fullDisk) Name() string { return f.name }

// component is the second document of spooled, a Component: the Sink
// releases it, as the engine's does.
const spooled = `apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
`

// releasing classifies objects and releases Components, as lint's Sink.
func releasing(o render.Object) (model.Entry, []rules.Finding, error) {
	e := model.Classify(o, "default")
	if e.Class == model.ClassComponent {
		e.Obj.Release()
	}
	return e, nil, nil
}

// TestStdinSpool: standard input is copied to a temporary file when a
// Component was released, so that its text can be read again; Close
// removes the copy.
func TestStdinSpool(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	in, err := Load(context.Background(), Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(spooled), Sink: releasing})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := in.Copies[StdinSource]
	if !ok || !c.Spool || c.Sum != crc32.ChecksumIEEE([]byte(spooled)) {
		t.Fatalf("copies %+v, want standard input's spool", in.Copies)
	}
	if len(in.Entries) != 2 || in.Entries[1].Obj.Raw != nil {
		t.Errorf("entries %d, want 2, the Component's text let go", len(in.Entries))
	}
	in.Close()
	if _, err := os.Stat(c.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spool %s left after Close: %v", c.Path, err)
	}
}

// TestStdinSpoolFails: when standard input cannot be copied, nothing is
// lost: the load goes on without a copy (the engine's finding then points
// at the Component's first line instead of the field), and a note says
// why.
func TestStdinSpoolFails(t *testing.T) {
	old := newSpool
	t.Cleanup(func() { newSpool = old })
	newSpool = func() (spoolFile, error) { return &fullDisk{name: filepath.Join(t.TempDir(), "spool")}, nil }
	in, err := Load(context.Background(), Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(spooled), Sink: releasing})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if len(in.Copies) != 0 {
		t.Errorf("copies %+v, want none", in.Copies)
	}
	if len(in.Entries) != 2 || in.Entries[1].Obj.Line != 6 {
		t.Errorf("entries %+v, want the Component at line 6", in.Entries)
	}
	if !slices.ContainsFunc(in.Notes, func(n string) bool {
		return strings.Contains(n, "standard input could not be copied to a temporary file (no space left on device)")
	}) {
		t.Errorf("notes %q lack the one on the failed copy", in.Notes)
	}
}
