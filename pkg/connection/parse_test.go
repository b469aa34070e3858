package connection_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func TestParse(t *testing.T) {
	const head = "apiVersion: connection.gatekeeper.sh/v1alpha1\nkind: Connection\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\n"
	tests := []struct {
		name    string
		in      string
		driver  string
		field   string
		wantErr string
		is      error // errors.Is, when set
	}{
		{name: "v3.20 Connection", in: head + "spec: {driver: dapr, config: {component: pubsub}}\n", driver: "dapr"},
		{name: "v3.18 ConfigMap", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr, config: '{\"component\":\"p\"}'}\n", driver: "dapr"},
		{name: "v3.19 ConfigMap with driver", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {driver: dapr, config: '{\"component\":\"p\"}'}\n", driver: "dapr"},
		{name: "no spec", in: head, field: "spec", wantErr: "Connection gatekeeper-system/audit-connection: spec: missing"},
		{name: "no driver", in: head + "spec: {config: {component: pubsub}}\n", field: "spec.driver", wantErr: "spec.driver: missing"},
		{name: "unknown driver", in: head + "spec: {driver: nats, config: {}}\n", field: "spec.driver", wantErr: `unknown driver "nats": valid drivers are dapr, disk`},
		{name: "v3.20 disk Connection", in: head + "spec: {driver: disk, config: {path: /tmp/violations/topics, maxAuditResults: 3}}\n", driver: "disk"},
		{name: "disk config checked first", in: head + "spec: {driver: disk, config: {path: /tmp/v, maxAuditResults: 9}}\n",
			field: "spec.config/maxAuditResults", wantErr: "spec.config/maxAuditResults: maximum"},
		{name: "disk config without path", in: head + "spec: {driver: disk, config: {maxAuditResults: 1}}\n",
			field: "spec.config", wantErr: "path"},
		{name: "disk closedConnectionTTL too short", in: head + "spec: {driver: disk, config: {path: /tmp/v, maxAuditResults: 1, closedConnectionTTL: 30s}}\n",
			field: "spec.config/closedConnectionTTL", wantErr: "30s is out of range: want 1m to 10m"},
		{name: "disk in a ConfigMap", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {driver: disk, config: '{\"path\":\"/tmp/v\",\"maxAuditResults\":1}'}\n",
			field: "data.driver", wantErr: `unknown driver "disk" in a ConfigMap: Gatekeeper v3.20.0 and later read the disk driver from a Connection resource`, is: connection.ErrUnknownDriver},
		{name: "no config", in: head + "spec: {driver: dapr}\n", field: "spec.config", wantErr: "spec.config: missing"},
		{name: "config fails schema", in: head + "spec: {driver: dapr, config: {component: ''}}\n", field: "spec.config/component", wantErr: "spec.config/component"},
		{name: "wrong api", in: "apiVersion: v1\nkind: Connection\nmetadata: {name: c}\nspec: {driver: dapr, config: {component: p}}\n", field: "apiVersion", wantErr: "want connection.gatekeeper.sh/v1alpha1"},
		{name: "typo in spec", in: head + "spec: {drivr: dapr}\n", wantErr: `unknown field "drivr"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := connection.Parse("conn.yaml", []byte(tt.in))
			if err == nil {
				err = cc.Err()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cc.Driver != tt.driver || len(cc.Config) == 0 {
					t.Fatalf("parsed %+v", cc)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "conn.yaml: ") {
				t.Fatalf("error %v, want one from conn.yaml containing %q", err, tt.wantErr)
			}
			var ce *connection.Error
			if tt.field != "" && (!errors.As(err, &ce) || ce.Field != tt.field) {
				t.Fatalf("error %v: field %q, want %q", err, ce.Field, tt.field)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
		})
	}
}
