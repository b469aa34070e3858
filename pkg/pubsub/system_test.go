package pubsub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
)

// recorder is a driver that records calls. It tests the System's own
// bookkeeping (which connection a name maps to, closing on a driver
// change), which the single real driver cannot show; the dapr driver
// itself is tested against a real daprd in test/e2e.
type recorder struct {
	mu     sync.Mutex
	name   string
	log    *[]string
	closed bool
	config map[string]any
}

func (r *recorder) Publish(_ context.Context, data any, topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("closed")
	}
	*r.log = append(*r.log, fmt.Sprintf("%s publish %s %v", r.name, topic, data))
	return nil
}

func (r *recorder) CloseConnection() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	*r.log = append(*r.log, r.name+" close")
	return nil
}

func (r *recorder) UpdateConnection(_ context.Context, config any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.config = config.(map[string]any)
	*r.log = append(*r.log, fmt.Sprintf("%s update %v", r.name, r.config["component"]))
	return nil
}

func recordingDriver(name string, log *[]string) pubsub.Driver {
	return pubsub.Driver{Name: name, New: func(_ context.Context, cfg map[string]any) (pubsub.Connection, error) {
		*log = append(*log, fmt.Sprintf("%s new %v", name, cfg["component"]))
		return &recorder{name: name, log: log, config: cfg}, nil
	}}
}

func TestSystem(t *testing.T) {
	var log []string
	// Both recorders validate against the dapr schema: only "dapr" has one.
	sys := pubsub.NewSystem(recordingDriver("dapr", &log))
	ctx := context.Background()

	steps := []struct {
		name    string
		do      func() error
		wantErr string
		wantLog string
	}{
		{"publish before upsert", func() error { return sys.Publish(ctx, "c", "t", 1) }, "no such connection", ""},
		{"upsert", func() error { return sys.UpsertConnection(ctx, map[string]any{"component": "a"}, "c", "dapr") }, "", "dapr new a"},
		{"publish", func() error { return sys.Publish(ctx, "c", "t", 1) }, "", "dapr publish t 1"},
		{"upsert same driver updates", func() error { return sys.UpsertConnection(ctx, `{"component":"b"}`, "c", "dapr") }, "", "dapr update b"},
		{"bad config refused", func() error { return sys.UpsertConnection(ctx, map[string]any{"component": ""}, "c", "dapr") }, "/component", ""},
		{"unknown driver", func() error { return sys.UpsertConnection(ctx, `{}`, "c", "nats") }, `unknown driver "nats": valid drivers are dapr`, ""},
		{"close", func() error { return sys.CloseConnection("c") }, "", "dapr close"},
		{"close twice", func() error { return sys.CloseConnection("c") }, "no such connection", ""},
	}
	for _, s := range steps {
		before := len(log)
		err := s.do()
		switch {
		case s.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%s: error %v, want one containing %q", s.name, err, s.wantErr)
		}
		var added string
		if len(log) > before {
			added = strings.Join(log[before:], "; ")
		}
		if added != s.wantLog {
			t.Fatalf("%s: calls %q, want %q", s.name, added, s.wantLog)
		}
	}
}

func TestSystemDriverChangeClosesOld(t *testing.T) {
	var log []string
	ctx := context.Background()
	other := recordingDriver("other", &log)
	other.Schema = "connection-config.dapr"
	sys := pubsub.NewSystem(recordingDriver("dapr", &log), other)
	if err := sys.UpsertConnection(ctx, `{"component":"a"}`, "c", "dapr"); err != nil {
		t.Fatal(err)
	}
	old, _ := sys.Connection("c")
	if err := sys.UpsertConnection(ctx, `{"component":"a"}`, "c", "dapr"); err != nil {
		t.Fatal(err)
	}
	if now, _ := sys.Connection("c"); now != old {
		t.Fatal("upsert with the same driver replaced the connection instead of updating it")
	}
	if err := sys.UpsertConnection(ctx, `{"component":"b"}`, "c", "other"); err != nil {
		t.Fatal(err)
	}
	want := "dapr new a; dapr update a; dapr close; other new b"
	if got := strings.Join(log, "; "); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if err := old.Publish(ctx, 1, "t"); err == nil {
		t.Fatal("the replaced connection still publishes: it was not closed")
	}
	if err := sys.Publish(ctx, "c", "t", 2); err != nil {
		t.Fatal(err)
	}
	if last := log[len(log)-1]; last != "other publish t 2" {
		t.Fatalf("publish went to %q, want the new driver", last)
	}
}

func TestSystemConcurrent(t *testing.T) {
	var mu sync.Mutex
	var log []string
	p := pubsub.Driver{Name: "dapr", New: func(_ context.Context, cfg map[string]any) (pubsub.Connection, error) {
		mu.Lock()
		defer mu.Unlock()
		return &recorder{name: "dapr", log: &log, config: cfg}, nil
	}}
	sys := pubsub.NewSystem(p)
	ctx := context.Background()
	if err := sys.UpsertConnection(ctx, `{"component":"a"}`, "c", "dapr"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				if i%4 == 0 {
					if err := sys.UpsertConnection(ctx, fmt.Sprintf(`{"component":"c%d"}`, j), "c", "dapr"); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				if err := sys.Publish(ctx, "c", "t", j); err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	// Every publish reached exactly one live connection and none a closed
	// one (Publish would have failed).
	mu.Lock()
	defer mu.Unlock()
	publishes := 0
	for _, l := range log {
		if strings.Contains(l, " publish t ") {
			publishes++
		}
	}
	if want := 6 * 100; publishes != want {
		t.Errorf("publishes recorded = %d, want %d", publishes, want)
	}
}

// TestSystemUpsertParsed upserts connections read by package connection:
// a valid one reaches the driver with its decoded config, one with
// problems is refused with its first problem, naming the field.
func TestSystemUpsertParsed(t *testing.T) {
	cm := func(name, config string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "namespace": "gatekeeper-system"},
			"data":     map[string]any{"provider": "dapr", "config": config}}
	}
	tests := []struct {
		name    string
		obj     map[string]any
		wantErr string
		wantLog string
	}{
		{"valid", cm("audit-connection", `{"component":"pubsub"}`), "", "dapr new pubsub"},
		{"schema problem", cm("audit-connection", `{"component":""}`), "ConfigMap gatekeeper-system/audit-connection: data.config/component: minLength", ""},
		{"syntax problem", cm("audit-connection", `{"component":`), "data.config", ""},
		{"no name", cm("", `{"component":"pubsub"}`), "empty connection name", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			sys := pubsub.NewSystem(recordingDriver("dapr", &log))
			err := sys.Upsert(context.Background(), connection.FromObject(tc.obj, ""))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if got := strings.Join(log, "; "); got != tc.wantLog {
				t.Errorf("calls %q, want %q", got, tc.wantLog)
			}
			if _, ok := sys.Connection("audit-connection"); ok != (tc.wantErr == "") {
				t.Errorf("connection present: %v, want %v", ok, tc.wantErr == "")
			}
		})
	}
}

// TestSystemUpsertParsedOwnSchema: a driver with a schema of its own
// checks a parsed config against it, which the driver's schema did not.
func TestSystemUpsertParsedOwnSchema(t *testing.T) {
	var log []string
	p := recordingDriver("dapr", &log)
	p.Schema = "connection-config.disk"
	sys := pubsub.NewSystem(p)
	c := connection.FromObject(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "audit-connection"},
		"data":     map[string]any{"provider": "dapr", "config": `{"component":"pubsub"}`}}, "gatekeeper-system")
	if err := c.Err(); err != nil {
		t.Fatalf("the config passes the dapr schema: %v", err)
	}
	err := sys.Upsert(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), `upserting connection "audit-connection": config:`) {
		t.Fatalf("error %v, want the disk schema's", err)
	}
	if len(log) != 0 {
		t.Errorf("driver called: %q", log)
	}
}
