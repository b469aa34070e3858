package procs

import (
	"errors"
	"os"
	"testing"
)

// TestBrokerPrepare: a given port and directory are kept (and the
// directory is not removed by Stop); zero ports get free ports and a
// directory is made, which Stop removes; a failed lookup is returned.
func TestBrokerPrepare(t *testing.T) {
	given := t.TempDir()
	var b broker
	port, extra := 4242, 0
	if bin, err := b.prepare(func() (string, error) { return "/bin/true", nil }, &port, given, "procs-test-", &extra); err != nil || bin != "/bin/true" {
		t.Fatalf("prepare: %q, %v", bin, err)
	}
	if port != 4242 || extra == 0 || b.dir != given || b.ownDir {
		t.Fatalf("port %d, extra %d, dir %s (own %v)", port, extra, b.dir, b.ownDir)
	}
	b.Stop()
	if _, err := os.Stat(given); err != nil {
		t.Fatalf("Stop removed a directory it did not make: %v", err)
	}

	var own broker
	port = 0
	if _, err := own.prepare(func() (string, error) { return "", nil }, &port, "", "procs-test-"); err != nil {
		t.Fatal(err)
	}
	if port == 0 || !own.ownDir {
		t.Fatalf("port %d, own %v", port, own.ownDir)
	}
	own.Stop()
	if _, err := os.Stat(own.dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left %s: %v", own.dir, err)
	}

	missing := errors.New("missing")
	if _, err := (&broker{}).prepare(func() (string, error) { return "", missing }, &port, "", "procs-test-"); !errors.Is(err, missing) {
		t.Fatalf("lookup error: %v", err)
	}
}
