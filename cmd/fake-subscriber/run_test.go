package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// TestUsage: flags only (a stray argument is a usage error, exit 2), help
// on standard output with exit 0, and an address it cannot bind is exit 1
// naming the address.
func TestUsage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, busyPort, _ := net.SplitHostPort(ln.Addr().String())
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"stray argument", []string{"--port", "0", "audit-channel"}, 2, "", `unexpected arguments ["audit-channel"]`},
		{"stray argument first", []string{"serve"}, 2, "", `unexpected arguments ["serve"]`},
		{"bad flag", []string{"--topic", "x"}, 2, "", "Run 'fake-subscriber --help' for usage."},
		{"--help", []string{"--help"}, 0, "usage: fake-subscriber [flags]", ""},
		{"-h lists the flags", []string{"-h"}, 0, "-health-port", ""},
		{"--version", []string{"--version"}, 0, "fake-subscriber v", ""},
		{"port in use", []string{"--port", busyPort}, 1, "", "listening on 127.0.0.1:" + busyPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			if tt.code == 0 && stderr.Len() > 0 {
				t.Errorf("help wrote to stderr: %s", stderr.String())
			}
		})
	}
}
