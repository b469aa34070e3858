package release

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// TestGoModToolchain: go.mod names the Go toolchain the module is built
// with (a toolchain line), no older than its go line and no newer than the
// Go running the tests, which the go command would otherwise have to
// download (and cannot, with GOTOOLCHAIN=local).
func TestGoModToolchain(t *testing.T) {
	path := filepath.Join("..", "..", "go.mod")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(path, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Toolchain == nil {
		t.Fatalf("%s has no toolchain line; add `toolchain %s`", path, runtime.Version())
	}
	semverOf := func(v string) string { return "v" + v[len("go"):] }
	tc, goLine, running := f.Toolchain.Name, "go"+f.Go.Version, runtime.Version()
	for _, v := range []string{tc, goLine, running} {
		if len(v) < 3 || !semver.IsValid(semverOf(v)) {
			t.Fatalf("%q is not a Go version (toolchain %s, go %s, running %s)", v, tc, goLine, running)
		}
	}
	if semver.Compare(semverOf(tc), semverOf(goLine)) < 0 {
		t.Errorf("%s: toolchain %s is older than the go line %s", path, tc, goLine)
	}
	if semver.Compare(semverOf(tc), semverOf(running)) > 0 {
		t.Errorf("%s: toolchain %s is newer than the Go running the tests, %s", path, tc, running)
	}
}
