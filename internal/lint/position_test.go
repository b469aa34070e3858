package lint

import (
	"context"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/input"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

const releasedFile = `# a comment before the first document
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
  namespace: gatekeeper-system
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: redis:6379
  - name: redisHostt
    value: x
`

// TestReleasedComponentPosition: a Component's text is let go once it is
// read, yet its finding points at the field: the locator reads the file
// again, or for standard input the temporary copy it was spooled to, which
// is gone after the run.
func TestReleasedComponentPosition(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(releasedFile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		opts  Options
		where string
	}{
		{"file", Options{Paths: []string{file}}, file},
		{"stdin", Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(releasedFile)}, StdinSource},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range res.Findings {
				if f.Rule == "component-metadata-unknown" {
					found = true
					if f.File != tt.where || f.Line != 19 || f.Column != 11 {
						t.Errorf("finding at %s:%d:%d, want %s:19:11 (spec.metadata[1].name)", f.File, f.Line, f.Column, tt.where)
					}
				}
			}
			if !found {
				t.Fatalf("no component-metadata-unknown finding in %+v", res.Findings)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
				t.Errorf("left in the temporary directory: %v", left)
			}
		})
	}
}

// TestRereadChangedFile: when the file changed since it was linted (its
// CRC-32 differs), a released object's finding points at the object's
// line, not at a line of the new text.
func TestRereadChangedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(releasedFile), 0o600); err != nil {
		t.Fatal(err)
	}
	objs, err := render.SplitYAML(file, []byte(releasedFile))
	if err != nil {
		t.Fatal(err)
	}
	o := &model.Object{Object: objs[1]}
	o.Release()
	o.Raw = nil
	field := model.P("spec", "metadata", 1, "name")
	for _, tt := range []struct {
		name      string
		sum       uint32
		line, col int
	}{
		{"unchanged", crc32.ChecksumIEEE([]byte(releasedFile)), 19, 11},
		{"changed", crc32.ChecksumIEEE([]byte(releasedFile)) + 1, 8, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, line, col := newLocator(map[string]input.TextCopy{file: {Path: file, Sum: tt.sum}}).locate(o, field)
			if line != tt.line || col != tt.col {
				t.Errorf("located at %d:%d, want %d:%d", line, col, tt.line, tt.col)
			}
		})
	}
}
