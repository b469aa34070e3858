package kubelet

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "PORT": "6002", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{"$(A)", "x"},
		{"--port=$(PORT)", "--port=6002"},
		{"$(A)$(A)", "xx"},
		{"$$(A)", "$(A)"},                // escaped
		{"$(UNDEFINED)", "$(UNDEFINED)"}, // kept as written
		{"$(EMPTY)-", "-"},
		{"$(A", "$(A"},
		{"cost $5", "cost $5"},
		{"end$", "end$"},
	}
	for _, tc := range tests {
		if got := expand([]string{tc.in}, vars)[0]; got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRewritePaths(t *testing.T) {
	mounts := map[string]string{"/certs": "/h/cert", "/tmp/audit": "/h/tmp", "/etc/conf/": "/h/conf"}
	tests := []struct{ in, want string }{
		{"--cert-dir=/certs", "--cert-dir=/h/cert"},
		{"--api-cache-dir=/tmp/audit", "--api-cache-dir=/h/tmp"},
		{"--file=/tmp/audit/x/y", "--file=/h/tmp/x/y"},
		{"--other=/tmp/auditor", "--other=/tmp/auditor"}, // not under the mount
		{"--connection=/etc/conf/connection", "--connection=/h/conf/connection"},
		{"/certs/tls.crt", "/h/cert/tls.crt"},
		{"--cert-dir", "--cert-dir"}, // value in the next arg
		{"--port=443", "--port=443"},
	}
	for _, tc := range tests {
		if got := rewritePaths(tc.in, mounts); got != tc.want {
			t.Errorf("rewritePaths(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFlagValue compares flagValue with Go's flag package, which Gatekeeper
// uses, on the argument lists the stand-in sees.
func TestFlagValue(t *testing.T) {
	tests := [][]string{
		{"--health-addr=:9090"},
		{"-health-addr=:9090"},
		{"--health-addr", "127.0.0.1:1"},
		{"--health-addr=:1", "--health-addr=:2"},
		{"--logtostderr", "--health-addr=:3"},
		{},
		{"--", "--health-addr=:4"},
	}
	for _, args := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		def := "unset"
		v := fs.String("health-addr", def, "")
		fs.Bool("logtostderr", false, "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		got, ok := flagValue(args, "health-addr")
		if !ok {
			got = def
		}
		if got != *v {
			t.Errorf("flagValue(%q) = %q, Go's flag package: %q", args, got, *v)
		}
	}
}

func TestParseDaprdArgs(t *testing.T) {
	// The shape of the injector's daprd args (Dapr v1.14 sidecar_container.go).
	args := []string{"/daprd", "--dapr-http-port", "3500", "--dapr-grpc-port", "50001", "--dapr-listen-addresses", "[::1],127.0.0.1",
		"--app-id", "audit", "--app-protocol", "http", "--log-level", "info", "--dapr-graceful-shutdown-seconds", "-1",
		"--mode", "kubernetes", "--enable-metrics", "--metrics-port", "9999", "--enable-mtls", "--enable-api-logging=true", "--app-port", "6002"}
	got := parseDaprdArgs(args)
	want := map[string]string{"dapr-http-port": "3500", "dapr-grpc-port": "50001", "dapr-listen-addresses": "[::1],127.0.0.1",
		"app-id": "audit", "app-protocol": "http", "log-level": "info", "dapr-graceful-shutdown-seconds": "-1", "mode": "kubernetes",
		"enable-metrics": "true", "metrics-port": "9999", "enable-mtls": "true", "enable-api-logging": "true", "app-port": "6002"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseDaprdArgs:\n got %v\nwant %v", got, want)
	}
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	data := map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}
	if err := writeFiles(dir, data, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "tls.crt")); string(b) != "c" {
		t.Errorf("tls.crt = %q", b)
	}
	// Items select and rename; a rewrite replaces the old contents.
	if err := writeFiles(dir, data, []corev1.KeyToPath{{Key: "tls.key", Path: "sub/key.pem"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tls.crt")); !os.IsNotExist(err) {
		t.Errorf("tls.crt still there after a rewrite with items: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "key.pem")); string(b) != "k" {
		t.Errorf("sub/key.pem = %q", b)
	}
}

func TestPortHelpers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		port int
		with string
	}{{":9090", 9090, "127.0.0.1:1"}, {"127.0.0.1:9090", 9090, "127.0.0.1:1"}, {"8888", 8888, "1"}} {
		p, err := portOf(tc.in)
		if err != nil || p != tc.port {
			t.Errorf("portOf(%q) = %d, %v", tc.in, p, err)
		}
		if got := withPort(tc.in, 1); got != tc.with {
			t.Errorf("withPort(%q, 1) = %q, want %q", tc.in, got, tc.with)
		}
	}
	if _, err := portOf("localhost:http"); err == nil {
		t.Error("portOf accepted a named port")
	}
}
