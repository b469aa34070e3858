package dapr

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		target  string
		tls     bool
		wantErr bool
	}{
		{in: "127.0.0.1:50001", target: "127.0.0.1:50001"},
		{in: "http://localhost:50001", target: "localhost:50001"},
		{in: "https://dapr.example:443", target: "dapr.example:443", tls: true},
		{in: "https://dapr.example", target: "dapr.example:443", tls: true},
		{in: "http://localhost:50001?tls=true", target: "localhost:50001", tls: true},
		{in: "dns:///localhost:50001", target: "dns:/localhost:50001"},
		{in: "ftp://x:1", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			target, useTLS, err := parseAddress(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error for %q", tt.in)
				}
				return
			}
			if err != nil || target != tt.target || useTLS != tt.tls {
				t.Fatalf("parseAddress(%q) = %q, %v, %v; want %q, %v", tt.in, target, useTLS, err, tt.target, tt.tls)
			}
		})
	}
}

func TestAddressFromEnv(t *testing.T) {
	t.Setenv(EnvGRPCEndpoint, "")
	t.Setenv(EnvGRPCPort, "")
	if got := AddressFromEnv(); got != "127.0.0.1:50001" {
		t.Errorf("default %q", got)
	}
	t.Setenv(EnvGRPCPort, "40001")
	if got := AddressFromEnv(); got != "127.0.0.1:40001" {
		t.Errorf("DAPR_GRPC_PORT: %q", got)
	}
	t.Setenv(EnvGRPCEndpoint, "https://sidecar:443")
	if got := AddressFromEnv(); got != "https://sidecar:443" {
		t.Errorf("DAPR_GRPC_ENDPOINT takes precedence: %q", got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		reason string // "" means transient
	}{
		{"sidecar down", status.Error(codes.Unavailable, "connection refused"), ""},
		{"broker error", status.Error(codes.Internal, "redis: connection refused"), ""},
		{"too large", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (9000 vs. 4096)"), "too_large"},
		{"overloaded", status.Error(codes.ResourceExhausted, "too many requests"), ""},
		{"topic not allowed", status.Error(codes.PermissionDenied, "topic audit-channel is not allowed"), "not_allowed"},
		{"bad token", status.Error(codes.Unauthenticated, "missing api token"), "unauthenticated"},
		{"no such component", status.Error(codes.InvalidArgument, "pubsub nope not found"), "invalid"},
		{"not grpc", errors.New("plain"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pe *queue.PermanentError
			got := classify(tt.err)
			if isPerm := errors.As(got, &pe); isPerm != (tt.reason != "") || (isPerm && pe.Reason != tt.reason) {
				t.Fatalf("classify(%v) = %v, want reason %q", tt.err, got, tt.reason)
			}
		})
	}
	if err := classifyEntry("dial tcp 127.0.0.1:6379: connect: connection refused"); errors.As(err, new(*queue.PermanentError)) {
		t.Error("a broker outage on one entry must be transient")
	}
	if err := classifyEntry("message too large"); !errors.As(err, new(*queue.PermanentError)) {
		t.Error("a too large entry must be permanent")
	}
}

func TestConfigValidatedByDriver(t *testing.T) {
	if _, err := New(t.Context(), map[string]any{"component": ""}, Options{Address: "127.0.0.1:1"}); err == nil {
		t.Fatal("empty component accepted")
	}
	c, err := New(t.Context(), map[string]any{"component": "pubsub"}, Options{Address: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateConnection(t.Context(), map[string]any{"component": "other"}); err != nil || c.Component() != "other" {
		t.Fatalf("update: %v, component %q", err, c.Component())
	}
	if err := c.UpdateConnection(t.Context(), map[string]any{"component": 3}); err == nil {
		t.Fatal("a numeric component was accepted")
	}
	if err := c.Publish(t.Context(), map[string]string{"a": "b"}, ""); err == nil {
		t.Fatal("empty topic accepted")
	}
	_ = c.CloseConnection()
}
