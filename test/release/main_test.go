// Package release_test checks a release as its users get it: `make
// release`'s code (internal/release) runs once against a real OCI registry
// (CNCF distribution, bin/registry) on a free loopback port, and the tests
// pull what it pushed back with go-containerregistry and Helm's registry
// client: the images' configs, labels, platforms, SBOMs and binaries, the
// chart rendered and installed with `helm install oci://...` into the real
// API server environment of internal/cluster, with `helm test` running the
// pubsub-send binary taken out of the pushed image. The CI integrations
// (go install at a version, the GitHub Action, the pre-commit hook and the
// Helm plugin) are run as their frameworks run them.
package release_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

var (
	// cleanups run after every test of the package (shared fixtures).
	cleanupMu sync.Mutex
	cleanups  []func()
)

func addCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanupMu.Unlock()
	os.Exit(code)
}

// once is a fixture made at most once for the package.
type once[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *once[T]) get(t *testing.T, what string, make func() (T, error)) T {
	t.Helper()
	o.once.Do(func() { o.v, o.err = make() })
	if o.err != nil {
		t.Fatalf("%s: %v", what, o.err)
	}
	return o.v
}

// releaseFixture is the release every image and chart test looks at.
type releaseFixture struct {
	res *release.Result
	reg *procs.Registry
	log string
	// gatekeeper is the stand-in Gatekeeper image the release pinned
	// (Options.GatekeeperImage), pushed to the registry first.
	gatekeeper string
	// signingKey and publicKey are the throwaway key pair (PEM files) the
	// release signed with, out the release's output directory.
	signingKey, publicKey string
	// goMod is go.mod as the release read it (its provenance lists its
	// modules).
	goMod []byte
}

var theRelease once[*releaseFixture]

// released runs internal/release once for the package, as `make release`
// does, against a registry on 127.0.0.1:<free port>.
func released(t *testing.T) *releaseFixture {
	t.Helper()
	return theRelease.get(t, "release", func() (*releaseFixture, error) {
		ko, err := procs.ToolPath("ko", "KO")
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
		defer cancel()
		reg, err := procs.StartRegistry(ctx, procs.RegistryOptions{})
		if err != nil {
			return nil, err
		}
		addCleanup(reg.Stop)
		out, err := os.MkdirTemp("", "release-out-")
		if err != nil {
			return nil, err
		}
		addCleanup(func() { os.RemoveAll(out) })
		root, err := procs.RepoRoot()
		if err != nil {
			return nil, err
		}
		gatekeeper, err := pushGatekeeperStandIn(ctx, reg.Addr, root)
		if err != nil {
			return nil, err
		}
		// A throwaway signing key, as a release manager's would be.
		keys, err := os.MkdirTemp("", "release-key-")
		if err != nil {
			return nil, err
		}
		addCleanup(func() { os.RemoveAll(keys) })
		signingKey, publicKey, err := writeKeyPair(keys)
		if err != nil {
			return nil, err
		}
		goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err != nil {
			return nil, err
		}
		var log syncBuffer
		start := time.Now()
		res, err := release.Run(ctx, release.Options{
			Registry: reg.Addr, Version: version.Version, Root: root, Ko: ko, OutDir: out, Log: &log,
			GatekeeperImage: gatekeeper, SigningKey: signingKey,
		})
		if err != nil {
			return nil, fmt.Errorf("%w\nrelease log (end):\n%s\nregistry log (end):\n%s", err, tailLines(log.String(), 60), tailLines(reg.Logs(), 30))
		}
		var summary bytes.Buffer
		release.Print(&summary, res)
		t.Logf("released in %s:\n%s", time.Since(start).Round(time.Second), summary.String())
		return &releaseFixture{res: res, reg: reg, log: log.String(), gatekeeper: gatekeeper, signingKey: signingKey, publicKey: publicKey, goMod: goMod}, nil
	})
}

// pushGatekeeperStandIn pushes a small random image as the Gatekeeper
// image of the chart's gatekeeperVersion to the registry at addr (the
// release reads its digest as a real release reads Gatekeeper's, from the
// registry that holds it) and returns its REPOSITORY:TAG.
func pushGatekeeperStandIn(ctx context.Context, addr, root string) (string, error) {
	gk, err := release.ChartGatekeeperVersion(filepath.Join(root, "charts", "gatekeeper-pubsub"))
	if err != nil {
		return "", err
	}
	ref := addr + "/openpolicyagent/gatekeeper:" + gk
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", err
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing the stand-in Gatekeeper image %s: %w", ref, err)
	}
	return ref, nil
}

// image returns the released image named name.
func (f *releaseFixture) image(t *testing.T, name string) release.Image {
	t.Helper()
	for _, img := range f.res.Images {
		if img.Name == name {
			return img
		}
	}
	t.Fatalf("the release has no image %s", name)
	return release.Image{}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := procs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// theTree is a copy of the checkout as a clone at a tag would hold it: the
// files git tracks and the new ones it does not ignore (no bin/, no .tmp/).
var theTree once[string]

func checkoutCopy(t *testing.T) string {
	t.Helper()
	return theTree.get(t, "copying the checkout", func() (string, error) {
		root, err := procs.RepoRoot()
		if err != nil {
			return "", err
		}
		cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git ls-files: %w", err)
		}
		// A fixed path per checkout: builds in the copy (pre-commit's go
		// install ./..., the Helm plugin's hook) hit Go's build cache on the
		// next run, which keys packages outside a module cache by directory.
		sum := sha256.Sum256([]byte(root))
		parent := filepath.Join(os.TempDir(), fmt.Sprintf("gatekeeper-pubsub-release-%x", sum[:4]))
		if err := os.RemoveAll(parent); err != nil {
			return "", err
		}
		addCleanup(func() { os.RemoveAll(parent) })
		dst := filepath.Join(parent, "gatekeeper-pubsub")
		for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			if rel == "" {
				continue
			}
			src := filepath.Join(root, rel)
			fi, err := os.Lstat(src)
			if err != nil {
				if os.IsNotExist(err) {
					continue // deleted in the working tree
				}
				return "", err
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			b, err := os.ReadFile(src)
			if err != nil {
				return "", err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(dst, rel), b, fi.Mode().Perm()); err != nil {
				return "", err
			}
		}
		return dst, nil
	})
}

// runCmd runs a command and returns its combined output and exit code; a
// command that cannot start fails t.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out), 0
}

// withEnv is the current environment with overrides (KEY=VALUE) replacing
// the same keys.
func withEnv(overrides ...string) []string {
	keys := map[string]bool{}
	for _, o := range overrides {
		k, _, _ := strings.Cut(o, "=")
		keys[k] = true
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if !keys[k] {
			env = append(env, e)
		}
	}
	return append(env, overrides...)
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a directory tree of regular files.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if d.Type().IsRegular() {
			copyFile(t, p, filepath.Join(dst, rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
