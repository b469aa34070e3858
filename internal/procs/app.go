package procs

import (
	"syscall"
	"time"
)

// App is any other child process (the demo runs the fake subscriber this
// way, the kubelet stand-in a pod's containers), with its output kept.
type App struct{ proc *process }

// AppOptions describe a process to start.
type AppOptions struct {
	// Name shown in logs.
	Name string
	// Path of the binary and its arguments.
	Path string
	Args []string
	// Env is added to the current environment.
	Env []string
	// CleanEnv starts the process with Env alone instead of the current
	// environment plus Env.
	CleanEnv bool
	// Dir is the working directory; empty means the current one.
	Dir string
	// Tee receives the output as it is written.
	Tee func([]byte)
}

// StartApp starts path with args and extra environment variables.
func StartApp(name, path string, args, env []string, tee func([]byte)) (*App, error) {
	return StartAppWith(AppOptions{Name: name, Path: path, Args: args, Env: env, Tee: tee})
}

// StartAppWith starts the process that opts describe.
func StartAppWith(opts AppOptions) (*App, error) {
	a := &App{proc: &process{name: opts.Name, path: opts.Path, args: opts.Args, env: opts.Env, dir: opts.Dir, cleanEnv: opts.CleanEnv, out: &syncBuffer{tee: opts.Tee}}}
	if err := a.proc.start(); err != nil {
		return nil, err
	}
	return a, nil
}

// Logs returns what the process printed.
func (a *App) Logs() string { return a.proc.logs() }

// Stop ends the process (SIGTERM, then SIGKILL).
func (a *App) Stop() { a.proc.stop(syscall.SIGTERM, 5*time.Second) }

// StopWithin ends the process with SIGTERM and kills it after grace.
func (a *App) StopWithin(grace time.Duration) { a.proc.stop(syscall.SIGTERM, grace) }

// Done is closed when the process has ended.
func (a *App) Done() <-chan struct{} {
	a.proc.mu.Lock()
	defer a.proc.mu.Unlock()
	return a.proc.done
}

// ExitCode is the process's exit code once it has ended (-1 for a signal),
// and whether it has ended.
func (a *App) ExitCode() (int, bool) {
	select {
	case <-a.Done():
	default:
		return 0, false
	}
	a.proc.mu.Lock()
	defer a.proc.mu.Unlock()
	if a.proc.cmd == nil || a.proc.cmd.ProcessState == nil {
		return -1, true
	}
	return a.proc.cmd.ProcessState.ExitCode(), true
}

// Kill ends the process at once (SIGKILL), as a crash or an OOM kill would.
func (a *App) Kill() { a.proc.stop(syscall.SIGKILL, 5*time.Second) }
