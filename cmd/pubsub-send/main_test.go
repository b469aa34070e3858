package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
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
	badViolationJSON := write("syntax.json", "{")
	wrongViolation := write("wrong.json", `{"key": "value"}`)
	example, err := json.Marshal(violation.Example(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	wrongInList := write("list.json", "["+string(example)+`, {"constraint_kind": 7}]`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "no connection: give --connection FILE"},
		{"both", []string{"--connection", good, "--driver", "dapr"}, "--connection and --driver/--config both given"},
		{"stray argument", []string{"--connection", good, "extra"}, `unexpected arguments ["extra"]`},
		{"bad flag", []string{"--nope"}, "Run 'pubsub-send --help' for usage."},
		{"config without a driver", []string{"--config", `{"component":"pubsub"}`}, "--config needs --driver, the driver it configures (dapr)"},
		{"driver without a config", []string{"--driver", "dapr"}, `--driver dapr needs --config`},
		{"unknown driver", []string{"--driver", "kafka", "--config", "{}"}, `--driver "kafka": unknown driver; Gatekeeper's drivers are dapr, disk, and pubsub-send publishes through dapr`},
		{"unknown driver spelt provider", []string{"--provider", "Dapr", "--config", "{}"}, `--driver "Dapr": unknown driver`},
		{"driver pubsub-send cannot publish through", []string{"--driver", "disk", "--config", `{"path":"/tmp/v","maxAuditResults":3}`}, "--driver disk: not supported by this publisher: pubsub-send publishes through dapr"},
		{"bad sidecar-wait", []string{"--connection", good, "--sidecar-wait", "0s"}, "--sidecar-wait 0s: must be positive"},
		{"violation file: syntax", []string{"--connection", good, "--file", badViolationJSON}, "invalid JSON at offset"},
		{"violation file: missing", []string{"--connection", good, "--file", filepath.Join(dir, "none.json")}, "--file: open "},
		{"violation file fails the schema", []string{"--connection", good, "--file", wrongViolation}, "not a violation as schemas/violation.schema.json describes it: /"},
		{"violation list fails the schema", []string{"--connection", good, "--file", wrongInList}, "/1"},
		{"missing file", []string{"--connection", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"invalid config json", []string{"--connection", badJSON}, "bad.yaml: ConfigMap c: data.config: invalid JSON"},
		{"mounted configmap, unknown driver", []string{"--connection", mounted}, `mounted: ConfigMap mounted: data.provider: unknown driver "kafka"`},
		{"inline config fails schema", []string{"--driver", "dapr", "--config", `{"component":""}`}, "--config: at /component"},
		{"empty violations list", []string{"--connection", good, "--file", notViolation}, "no violations in the list"},
		{"bad policy", []string{"--connection", good, "--queue-full", "maybe"}, `queue full policy "maybe"`},
		{"zero count", []string{"--connection", good, "--count", "0"}, "--count at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.want)
			}
		})
	}
}

// TestProviderAlias: --provider, the deprecated spelling of --driver, still
// sets the driver, prints a one-line deprecation note on standard error and
// is documented as deprecated in --help; --driver prints no note.
func TestProviderAlias(t *testing.T) {
	const note = "pubsub-send: --provider is deprecated, use --driver\n"
	for _, tc := range []struct {
		flag     string
		wantNote bool
	}{{"--driver", false}, {"--provider", true}, {"--provider=", true}} {
		t.Run(tc.flag, func(t *testing.T) {
			args := []string{tc.flag, "dapr", "--config", `{"component":""}`}
			if strings.HasSuffix(tc.flag, "=") {
				args = []string{tc.flag + "dapr", "--config", `{"component":""}`}
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			// The config fails the dapr schema: the driver was read, as
			// with --driver.
			if code != 2 || !strings.Contains(stderr.String(), "--config: at /component") {
				t.Fatalf("exit %d, stderr %q; want 2 and the dapr schema's error", code, stderr.String())
			}
			if got := strings.Count(stderr.String(), note); got != map[bool]int{false: 0, true: 1}[tc.wantNote] {
				t.Errorf("deprecation note printed %d times, want it %v; stderr %q", got, tc.wantNote, stderr.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-provider value\n    \tdeprecated: use --driver") {
		t.Errorf("--help does not document --provider as deprecated: exit %d\n%s", code, stdout.String())
	}
}

// TestVersion: --version prints the release version on standard output.
func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 || stdout.String() != "pubsub-send "+version.ModuleVersion()+"\n" || stderr.Len() > 0 {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
}

// TestHelp: --help prints usage on standard output and exits 0.
func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: pubsub-send") || !strings.Contains(stdout.String(), "-sidecar-wait") || stderr.Len() > 0 {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
}

// TestNoSidecar: with nothing listening at the sidecar's address,
// pubsub-send fails within --sidecar-wait, exit 1, naming the address and
// where it came from.
func TestNoSidecar(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close() // nothing listens there now
	good := filepath.Join(t.TempDir(), "conn.yaml")
	if err := os.WriteFile(good, []byte("kind: ConfigMap\nmetadata: {name: audit-connection}\ndata: {provider: dapr, config: '{\"component\":\"pubsub\"}'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, env, value, want string
	}{
		{"endpoint", "DAPR_GRPC_ENDPOINT", "http://" + addr, "no Dapr sidecar at http://" + addr + " ($DAPR_GRPC_ENDPOINT) after 300ms"},
		{"port", "DAPR_GRPC_PORT", port, "no Dapr sidecar at 127.0.0.1:" + port + " ($DAPR_GRPC_PORT) after 300ms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DAPR_GRPC_ENDPOINT", "")
			t.Setenv(tt.env, tt.value)
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := run([]string{"--connection", good, "--sidecar-wait", "300ms"}, &stdout, &stderr)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s: want a fast failure", took)
			}
			if code != 1 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, want 1 and %q\nstderr: %s", code, tt.want, stderr.String())
			}
		})
	}
}
