// Package procs starts the real servers the tests and the demo need
// (redis-server and daprd) as child processes on free loopback ports, waits
// until they are ready, and stops them and removes their files afterwards.
package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrMissing marks a binary that is not installed; the message names the
// make target that installs it.
var ErrMissing = errors.New("missing prerequisite")

// RepoRoot returns the directory holding the product's go.mod, searching
// upwards from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/gatekeeper-pubsub/gatekeeper-pubsub\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of github.com/gatekeeper-pubsub/gatekeeper-pubsub) not found above the working directory")
		}
		dir = parent
	}
}

// DaprdPath returns the daprd binary: $DAPRD, else bin/daprd in the repo.
func DaprdPath() (string, error) { return ToolPath("daprd", "DAPRD") }

// ToolPath returns a tool that `make tools` builds and links into bin/: the
// path in the environment variable env when set, else bin/NAME in the repo.
// A missing tool is ErrMissing with the make target that builds it.
func ToolPath(name, env string) (string, error) {
	return toolPath(name, env, "run `make tools` (builds it from source into a cache and links it into bin/)")
}

// toolPath is ToolPath with the advice a missing tool's error gives.
func toolPath(name, env, advice string) (string, error) {
	p := ""
	if env != "" {
		p = os.Getenv(env)
	}
	if p == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		p = filepath.Join(root, "bin", name)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: %s not found at %s: %s", ErrMissing, name, p, advice)
	}
	return p, nil
}

// RedisServerPath returns redis-server: $REDIS_SERVER, else from PATH.
func RedisServerPath() (string, error) {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p, nil
	}
	return lookPath("redis-server", "run `make tools` (installs Debian's redis-server)")
}

// lookPath finds name on PATH; a missing one is ErrMissing with advice.
func lookPath(name, advice string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found on PATH: %s", ErrMissing, name, advice)
	}
	return p, nil
}

// process is a child process with its combined output kept for logs.
type process struct {
	name string
	path string
	args []string
	env  []string
	dir  string
	// cleanEnv starts the process with env alone, not the current
	// environment plus env.
	cleanEnv bool
	// cred, if set, runs the process as another user (PostgreSQL refuses
	// to run as root).
	cred *syscall.Credential

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee func([]byte)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tee != nil {
		b.tee(p)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		p.out = &syncBuffer{}
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Dir = p.dir
	if p.cleanEnv {
		cmd.Env = append([]string(nil), p.env...)
	} else {
		cmd.Env = append(os.Environ(), p.env...)
	}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// A process group of its own, so a stop also ends its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: p.cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	fmt.Fprintf(p.out, "--- %s started (pid %d): %s %v\n", p.name, cmd.Process.Pid, p.path, p.args)
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// exited reports whether the process has ended, and how.
// pid is the running process's ID.
func (p *process) pid() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0, fmt.Errorf("%s: not started", p.name)
	}
	return p.cmd.Process.Pid, nil
}

func (p *process) exited() (bool, error) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// stop sends sig to the process group and waits up to grace before killing.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// logs returns everything the process printed so far.
func (p *process) logs() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// waitFor polls ready until it returns nil, the process exits, or ctx ends.
func (p *process) waitFor(ctx context.Context, what string, ready func(context.Context) error) error {
	var last error
	for {
		if last = ready(ctx); last == nil {
			return nil
		}
		if gone, err := p.exited(); gone {
			return fmt.Errorf("%s exited before %s (%w); its output:\n%s", p.name, what, err, p.logs())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %s: %w (last: %w); its output:\n%s", p.name, what, ctx.Err(), last, p.logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
