package sendcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput: every mistake exits 2 with a message naming what is wrong,
// before any connection is made.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("conn.yaml", "kind: ConfigMap\nmetadata: {name: audit-connection}\ndata: {provider: dapr, config: '{\"component\":\"pubsub\"}'}\n")
	badJSON := write("bad.yaml", "kind: ConfigMap\nmetadata: {name: c}\ndata: {provider: dapr, config: '{'}\n")
	mounted := filepath.Join(dir, "mounted")
	if err := os.Mkdir(mounted, 0o700); err != nil {
		t.Fatal(err)
	}
	write("mounted/provider", "kafka")
	write("mounted/config", "{}")
	notViolation := write("v.json", "[]")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "give --connection or --provider"},
		{"both", []string{"--connection", good, "--provider", "dapr"}, "give --connection or --provider"},
		{"missing file", []string{"--connection", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"invalid config json", []string{"--connection", badJSON}, "bad.yaml: ConfigMap c: data.config: invalid JSON"},
		{"mounted configmap, unknown provider", []string{"--connection", mounted}, `mounted: ConfigMap mounted: data.provider: unknown provider "kafka"`},
		{"inline config fails schema", []string{"--provider", "dapr", "--config", `{"component":""}`}, "--config: at /component"},
		{"empty violations list", []string{"--connection", good, "--file", notViolation}, "no violations in the list"},
		{"bad policy", []string{"--connection", good, "--queue-full", "maybe"}, `queue full policy "maybe"`},
		{"zero count", []string{"--connection", good, "--count", "0"}, "--count at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(tt.args, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.want)
			}
		})
	}
}
