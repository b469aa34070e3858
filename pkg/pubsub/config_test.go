package pubsub_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
)

// TestParseConnection: the publisher reads what package connection reads,
// reports its first problem, and refuses a driver it does not implement
// only after the config was validated.
func TestParseConnection(t *testing.T) {
	const head = "apiVersion: connection.gatekeeper.sh/v1alpha1\nkind: Connection\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\n"
	tests := []struct {
		name, in, field, wantErr string
		is                       error
	}{
		{name: "dapr", in: head + "spec: {driver: dapr, config: {component: pubsub}}\n"},
		{name: "disk is not published here", in: head + "spec: {driver: disk, config: {path: /tmp/violations/topics, maxAuditResults: 3}}\n",
			field: "spec.driver", wantErr: `spec.driver: driver "disk" is not supported by this publisher: it publishes through dapr only`, is: pubsub.ErrDriverNotSupported},
		{name: "disk config checked first", in: head + "spec: {driver: disk, config: {path: /tmp/v, maxAuditResults: 9}}\n",
			field: "spec.config/maxAuditResults", wantErr: "maximum"},
		{name: "unknown driver", in: head + "spec: {driver: nats, config: {}}\n", field: "spec.driver", wantErr: "valid drivers are dapr, disk", is: pubsub.ErrUnknownDriver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := pubsub.ParseConnection("conn.yaml", []byte(tt.in))
			if tt.wantErr == "" {
				if err != nil || cc.Driver != "dapr" || cc.Config["component"] != "pubsub" {
					t.Fatalf("ParseConnection = %+v, %v", cc, err)
				}
				return
			}
			var ce *connection.Error
			if !errors.As(err, &ce) || ce.Field != tt.field || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "conn.yaml: Connection gatekeeper-system/audit-connection: ") {
				t.Fatalf("error %v, want one from conn.yaml at %s containing %q", err, tt.field, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
		})
	}
}
