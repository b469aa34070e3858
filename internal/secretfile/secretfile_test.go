package secretfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/secretfile"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want, err     string
	}{
		{"trimmed", " s3cret\n", "s3cret", ""},
		{"at the limit", strings.Repeat("x", 16), strings.Repeat("x", 16), ""},
		{"over the limit", strings.Repeat("x", 17), "", ": over 16 bytes"},
		{"empty", " \n\t", "", " is empty"},
		{"missing", "", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if tc.name != "missing" {
				if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := secretfile.Read(p, 16)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want it to name %s and say %q", err, p, tc.err)
				}
				if c := strings.TrimSpace(tc.content); c != "" && strings.Contains(err.Error(), c) {
					t.Fatalf("error %q shows the content", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%q %v, want %q", got, err, tc.want)
			}
		})
	}
}
