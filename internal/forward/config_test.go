package forward_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mut  func(*forward.Config)
		want []string // in the error; none: valid
	}{
		{"valid", func(*forward.Config) {}, nil},
		{"path not made yet by the audit, its volume there", func(c *forward.Config) { c.Path = filepath.Join(dir, "topics") }, nil},
		{"no volume either", func(c *forward.Config) { c.Path = filepath.Join(dir, "nope", "topics") }, []string{"--path", "nope/topics", "neither it nor"}},
		{"path a file", func(c *forward.Config) { c.Path = file }, []string{"--path " + file + " is not a directory"}},
		{"no path", func(c *forward.Config) { c.Path = "" }, []string{"--path is required"}},
		{"no topic", func(c *forward.Config) { c.Topic = "" }, []string{"--topic is required"}},
		{"topic with a slash", func(c *forward.Config) { c.Topic = "a/b" }, []string{`--topic "a/b"`}},
		{"checkpoint where the driver deletes", func(c *forward.Config) { c.Checkpoint = filepath.Join(dir, "audit-channel", "cp.json") }, []string{"--checkpoint", "is inside"}},
		{"batch too large", func(c *forward.Config) { c.BatchLines = 20000 }, []string{"--batch-lines is 20000"}},
		{"every problem at once", func(c *forward.Config) { c.Topic, c.Pubsub = "", "" }, []string{"--topic is required", "--pubsub is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := forward.DefaultConfig()
			c.Path, c.Topic = dir, "audit-channel"
			tc.mut(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
