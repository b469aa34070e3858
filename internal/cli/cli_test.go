package cli_test

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cli"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"flags", []string{"--port", "7"}, cli.Continue, "", ""},
		{"help", []string{"--help"}, 0, "usage: tool [flags]\n\nflags:\n  -port", ""},
		{"bad flag", []string{"--nope"}, 2, "", "flag provided but not defined: -nope\nRun 'tool --help' for usage."},
		{"stray argument", []string{"extra"}, 2, "", `tool: unexpected arguments ["extra"]: it takes flags only`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			fs := flag.NewFlagSet("tool", flag.ContinueOnError)
			fs.SetOutput(&stderr)
			port := fs.String("port", "1", "the port")
			code := cli.Parse(fs, tc.args, "usage: tool [flags]", "it takes flags only", &stdout, &stderr)
			if code != tc.code || !strings.HasPrefix(stdout.String(), tc.stdout) || !strings.HasPrefix(stderr.String(), tc.stderr) {
				t.Fatalf("code %d stdout %q stderr %q; want %d, %q, %q", code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
			}
			if tc.code == cli.Continue && *port != "7" {
				t.Fatalf("port %q", *port)
			}
		})
	}
}
