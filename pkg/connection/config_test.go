package connection_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func TestParseConfigMap(t *testing.T) {
	const documented = `apiVersion: v1
kind: ConfigMap
metadata:
  name: audit-connection
  namespace: gatekeeper-system
data:
  provider: "dapr"
  config: |
    {
      "component": "pubsub"
    }
`
	tests := []struct {
		name    string
		in      string
		wantErr []string // substrings of the error, all required
		field   string   // Error.Field
	}{
		{name: "documented", in: documented},
		{name: "json", in: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns"},"data":{"provider":"dapr","config":"{\"component\":\"kafka-pubsub\"}"}}`},
		{
			name: "no data", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\n",
			wantErr: []string{"conn.yaml", "ConfigMap gatekeeper-system/audit-connection", "data: missing"}, field: "data",
		},
		{
			name: "no provider", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {config: '{}'}\n",
			wantErr: []string{"ConfigMap c", "data.provider: missing", "dapr"}, field: "data.provider",
		},
		{
			name: "unknown driver", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: kafka, config: '{}'}\n",
			wantErr: []string{`unknown driver "kafka"`, "valid drivers are dapr"}, field: "data.provider",
		},
		{
			name: "no config", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr}\n",
			wantErr: []string{"data.config: missing"}, field: "data.config",
		},
		{
			name: "invalid json", in: "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  provider: dapr\n  config: |\n    {\"component\": \"pubsub\",}\n",
			wantErr: []string{"data.config", "invalid JSON at offset 24", "line 1, column 24"}, field: "data.config",
		},
		{
			name: "truncated json", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr, config: '{\"component\": '}\n",
			wantErr: []string{"invalid JSON at offset 14", "unexpected end"}, field: "data.config",
		},
		{
			name: "empty component", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr, config: '{\"component\": \"\"}'}\n",
			wantErr: []string{"data.config/component", "minLength"}, field: "data.config/component",
		},
		{
			name: "missing component", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr, config: '{\"name\": \"pubsub\"}'}\n",
			wantErr: []string{"data.config", "component"}, field: "data.config",
		},
		{
			name: "config not an object", in: "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr, config: '\"pubsub\"'}\n",
			wantErr: []string{"data.config", "want object"}, field: "data.config",
		},
		{
			name: "wrong kind", in: "kind: Secret\nmetadata: {name: c}\ndata: {provider: dapr}\n",
			wantErr: []string{"kind", `"Secret"`, "want ConfigMap or Connection"}, field: "kind",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := connection.Parse("conn.yaml", []byte(tt.in))
			if err == nil {
				err = cc.Err()
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if cc.Driver != "dapr" || cc.Config["component"] == "" {
					t.Fatalf("parsed %+v", cc)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var ce *connection.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *connection.Error", err)
			}
			if ce.Field != tt.field {
				t.Errorf("field = %q, want %q", ce.Field, tt.field)
			}
		})
	}
}

// TestValidateConfigDisk: the disk driver's config as Gatekeeper v3.23.1's
// pkg/export/disk unmarshalConfig accepts it.
func TestValidateConfigDisk(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		pointer string // "" when valid
		want    string
	}{
		{name: "chart default", config: `{"path": "/tmp/violations/topics", "maxAuditResults": 3}`},
		{name: "bounds", config: `{"path": "v", "maxAuditResults": 0, "closedConnectionTTL": "1m"}`},
		{name: "upper bounds", config: `{"path": "v.d", "maxAuditResults": 5, "closedConnectionTTL": "10m"}`},
		{name: "fraction dropped by Gatekeeper", config: `{"path": "v", "maxAuditResults": 2.5, "closedConnectionTTL": "5m30s"}`},
		{name: "no path", config: `{"maxAuditResults": 3}`, pointer: "", want: "path"},
		{name: "empty path", config: `{"path": "", "maxAuditResults": 3}`, pointer: "/path", want: "minLength"},
		{name: "dir traversal", config: `{"path": "/tmp/../etc", "maxAuditResults": 3}`, pointer: "/path", want: "does not match pattern"},
		{name: "too many results", config: `{"path": "v", "maxAuditResults": 6}`, pointer: "/maxAuditResults", want: "maximum"},
		{name: "negative results", config: `{"path": "v", "maxAuditResults": -1}`, pointer: "/maxAuditResults", want: "minimum"},
		{name: "results as a string", config: `{"path": "v", "maxAuditResults": "3"}`, pointer: "/maxAuditResults", want: "want number"},
		{name: "ttl too long", config: `{"path": "v", "maxAuditResults": 1, "closedConnectionTTL": "11m"}`, pointer: "/closedConnectionTTL", want: "11m is out of range: want 1m to 10m"},
		{name: "ttl too short", config: `{"path": "v", "maxAuditResults": 1, "closedConnectionTTL": "59s"}`, pointer: "/closedConnectionTTL", want: "out of range"},
		{name: "ttl not a duration", config: `{"path": "v", "maxAuditResults": 1, "closedConnectionTTL": "5 minutes"}`, pointer: "/closedConnectionTTL", want: "does not match pattern"},
		{name: "ttl as a number", config: `{"path": "v", "maxAuditResults": 1, "closedConnectionTTL": 60}`, pointer: "/closedConnectionTTL", want: "want string"},
		{name: "misspelt key", config: `{"path": "v", "maxAuditResults": 1, "closedConnectionTtl": "5m"}`, pointer: "", want: "closedConnectionTtl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := connection.DecodeConfig("disk", []byte(tt.config))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var pe *connection.PointerError
			if !errors.As(err, &pe) || pe.Pointer != tt.pointer || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one at %q containing %q", err, tt.pointer, tt.want)
			}
		})
	}
}
