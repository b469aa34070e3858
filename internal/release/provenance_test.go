package release

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release/sign"
)

func TestGoModules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26.0\n\ntoolchain go1.26.8\n\nrequire (\n\tgithub.com/a/b v1.2.3\n\tgithub.com/c/d v0.1.0 // indirect\n)\n")
	write("go.sum", "github.com/a/b v1.2.3 h1:Khu2En+0gcYPZ2kuIihfswbzxv/mIHXgzPZ018Oty48=\ngithub.com/a/b v1.2.3/go.mod h1:AAAA\ngithub.com/c/d v0.1.0/go.mod h1:BBBB\n")
	got, err := GoModules(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []sign.ResourceDescriptor{
		{Name: "toolchain", URI: "pkg:golang/toolchain@go1.26.8"},
		// in-toto's own example of dirHash: h1:Khu2En... as hex.
		{Name: "github.com/a/b", URI: "pkg:golang/github.com/a/b@v1.2.3", Digest: map[string]string{"dirHash": "2a1bb6127fb481c60f67692e22285fb306f3c6ffe62075e0ccf674d7c3adcb8f"}},
		{Name: "github.com/c/d", URI: "pkg:golang/github.com/c/d@v0.1.0", Annotations: map[string]any{"indirect": true}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d dependencies %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.URI != w.URI || g.Digest["dirHash"] != w.Digest["dirHash"] || (w.Annotations == nil) != (g.Annotations == nil) {
			t.Errorf("dependency %d: %+v, want %+v", i, g, w)
		}
	}
	// The repository's own go.mod: every requirement is there.
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := GoModules(root)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range mods {
		found = found || strings.HasPrefix(m.URI, "pkg:golang/github.com/google/go-containerregistry@") && m.Digest["dirHash"] != ""
	}
	if !found {
		t.Errorf("go-containerregistry with its hash not among %d modules", len(mods))
	}
}

// TestRunSigningKeyFirst: a signing key that cannot be used fails the
// release before anything is built or pushed, naming the file.
func TestRunSigningKeyFirst(t *testing.T) {
	dir := t.TempDir()
	_, pub, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(dir, "release.pub")
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, want string }{
		{filepath.Join(dir, "missing.key"), "signing key " + filepath.Join(dir, "missing.key") + ": open "},
		{pubFile, "signing key " + pubFile + ": a public key"},
		{garbage, "signing key " + garbage + ": not a PEM file"},
	} {
		t.Run(filepath.Base(c.key), func(t *testing.T) {
			_, err := Run(context.Background(), Options{
				Registry: "127.0.0.1:1", Version: "0.1.0", Root: dir, Ko: filepath.Join(dir, "no-ko"),
				OutDir: filepath.Join(dir, "out"), SigningKey: c.key,
			})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
