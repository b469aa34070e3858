package send

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// TestValidViolations: the example violation and lists of it pass the
// schema check of --file.
func TestValidViolations(t *testing.T) {
	v := violation.Example(time.Now())
	one, _ := json.Marshal(v)
	v.ResourceKind, v.ResourceLabels = "Namespace", map[string]string{"app": "demo"}
	list, _ := json.Marshal([]violation.Violation{violation.Example(time.Now()), v})
	for _, b := range [][]byte{one, list} {
		if err := validateViolations("v.json", b); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}

// TestDialTargets: each form of the sidecar's address is probed where the
// publisher will connect.
func TestDialTargets(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:50001": "tcp 127.0.0.1:50001", "http://localhost:3500": "tcp localhost:3500", "https://dapr.example": "tcp dapr.example:443",
		"dns:///daprd:50001": "tcp daprd:50001", "unix:///run/dapr.sock": "unix /run/dapr.sock",
	} {
		n, a, ok := dialTarget(in)
		if got := n + " " + a; !ok || got != want {
			t.Errorf("dialTarget(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestRunErrors: bad input is an *InputError, found before the sidecar is
// looked for; a missing sidecar is another error.
func TestRunErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	t.Setenv("DAPR_GRPC_ENDPOINT", addr)
	inline := Config{Driver: "dapr", DriverConfig: `{"component":"pubsub"}`, Channel: "audit-channel", Count: 1, QueueFull: "block", SidecarWait: 300 * time.Millisecond}
	for _, tc := range []struct {
		name      string
		change    func(*Config)
		wantInput bool
		want      string
	}{
		{"no connection", func(c *Config) { c.Driver, c.DriverConfig = "", "" }, true, "no connection"},
		{"unknown driver", func(c *Config) { c.Driver = "kafka" }, true, `--driver "kafka": unknown driver`},
		{"bad queue policy", func(c *Config) { c.QueueFull = "maybe" }, true, `queue full policy "maybe"`},
		{"no sidecar", func(*Config) {}, false, "no Dapr sidecar at " + addr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := inline
			tc.change(&c)
			err := Run(context.Background(), c, io.Discard, io.Discard)
			var input *InputError
			if err == nil || errors.As(err, &input) != tc.wantInput || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one containing %q, an input error: %v", err, tc.want, tc.wantInput)
			}
		})
	}
}
