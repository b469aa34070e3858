package release_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

const modulePath = "github.com/gatekeeper-pubsub/gatekeeper-pubsub"

var theProxy once[string]

// moduleProxy is a GOPROXY directory (file://) serving the checkout as the
// module at v+VERSION, as the tag of this release would publish it: the
// module zip made by golang.org/x/mod/zip (the go command's own code, with
// its rules: nested modules such as tools/* left out, size limits) from a
// copy of the files git tracks or does not ignore.
func moduleProxy(t *testing.T) string {
	t.Helper()
	return theProxy.get(t, "module proxy", func() (string, error) {
		src := checkoutCopy(t)
		dir, err := os.MkdirTemp("", "release-goproxy-")
		if err != nil {
			return "", err
		}
		addCleanup(func() { os.RemoveAll(dir) })
		escaped, err := module.EscapePath(modulePath)
		if err != nil {
			return "", err
		}
		v := version.ModuleVersion()
		at := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
		if err := os.MkdirAll(at, 0o755); err != nil {
			return "", err
		}
		gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
		if err != nil {
			return "", err
		}
		info := fmt.Sprintf(`{"Version":%q,"Time":%q}`, v, time.Now().UTC().Format(time.RFC3339))
		for name, data := range map[string][]byte{"list": []byte(v + "\n"), v + ".info": []byte(info), v + ".mod": gomod} {
			if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
				return "", err
			}
		}
		zf, err := os.Create(filepath.Join(at, v+".zip"))
		if err != nil {
			return "", err
		}
		defer zf.Close()
		if err := modzip.CreateFromDir(zf, module.Version{Path: modulePath, Version: v}, src); err != nil {
			return "", fmt.Errorf("module zip: %w", err)
		}
		return dir, zf.Close()
	})
}

// goEnv is `go env NAME` of the test's environment.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestGoInstall installs pubsub-lint the two ways CI does, into an empty
// GOBIN, and runs `pubsub-lint version`:
//
//   - `go install github.com/gatekeeper-pubsub/gatekeeper-pubsub/cmd/pubsub-lint@vVERSION`
//     with a new, empty GOPATH and module cache, the module served by a
//     file:// proxy holding this checkout as the tagged release (its
//     dependencies come from the machine's module cache as a proxy, then
//     the configured GOPROXY), checked against the module's own go.sum;
//   - `GOFLAGS=-mod=mod go install ./cmd/pubsub-lint` from the checkout.
func TestGoInstall(t *testing.T) {
	proxy := moduleProxy(t)
	v := version.ModuleVersion()
	for _, c := range []struct {
		name   string
		target string
		// fresh is a new GOPATH and module cache, outside any module.
		fresh bool
		env   []string
		// module is what the binary's build info says.
		module string
	}{
		{name: "at the release's version", target: modulePath + "/cmd/pubsub-lint@" + v, fresh: true, module: v,
			env: []string{
				"GOPROXY=file://" + proxy + ",file://" + filepath.Join(goEnv(t, "GOMODCACHE"), "cache", "download") + "," + goEnv(t, "GOPROXY"),
				"GONOSUMDB=" + modulePath, "GOFLAGS=-trimpath", "GOWORK=off", "CGO_ENABLED=0",
			}},
		{name: "from the checkout", target: "./cmd/pubsub-lint", module: "(devel)",
			env: []string{"GOFLAGS=-mod=mod -buildvcs=false"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			gobin := t.TempDir()
			dir := repoRoot(t)
			env := withEnv(append([]string{"GOBIN=" + gobin}, c.env...)...)
			if c.fresh {
				gopath := t.TempDir()
				dir = t.TempDir()
				env = withEnv(append([]string{"GOBIN=" + gobin, "GOPATH=" + gopath, "GOMODCACHE=" + filepath.Join(gopath, "pkg", "mod")}, c.env...)...)
				t.Cleanup(func() {
					// The module cache is read-only; go clean empties it.
					_, _ = runCmd(t, dir, env, "go", "clean", "-modcache")
				})
			}
			out, code := runCmd(t, dir, env, "go", "install", c.target)
			if code != 0 {
				t.Fatalf("go install %s: exit %d\n%s", c.target, code, out)
			}
			bin := filepath.Join(gobin, "pubsub-lint")
			out, code = runCmd(t, t.TempDir(), os.Environ(), bin, "version")
			if code != 0 || !strings.HasPrefix(out, "pubsub-lint "+version.Version+"\n") {
				t.Fatalf("pubsub-lint version: exit %d\n%s", code, out)
			}
			for _, want := range []string{"dapr:       " + version.Dapr, "gatekeeper: " + version.GatekeeperMin + " - " + version.GatekeeperMax} {
				if !strings.Contains(out, want) {
					t.Errorf("pubsub-lint version does not say %q:\n%s", want, out)
				}
			}
			out, code = runCmd(t, t.TempDir(), os.Environ(), bin, "version", "--format", "json")
			var got struct {
				Version, Module, Dapr string
				Gatekeeper            struct{ Min, Max string }
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
				t.Fatalf("pubsub-lint version --format json: exit %d, %v\n%s", code, err, out)
			}
			if got.Version != version.Version || got.Module != c.module || got.Dapr != version.Dapr ||
				got.Gatekeeper.Min != version.GatekeeperMin || got.Gatekeeper.Max != version.GatekeeperMax {
				t.Errorf("pubsub-lint version --format json = %+v, want version %s module %s", got, version.Version, c.module)
			}
		})
	}
}
