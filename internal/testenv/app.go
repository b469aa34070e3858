package testenv

import (
	"syscall"
	"time"
)

// App is any other child process (the demo runs the fake subscriber this
// way), with its output kept.
type App struct{ proc *process }

// StartApp starts path with args and extra environment variables.
func StartApp(name, path string, args, env []string, tee func([]byte)) (*App, error) {
	a := &App{proc: &process{name: name, path: path, args: args, env: env, out: &syncBuffer{tee: tee}}}
	if err := a.proc.start(); err != nil {
		return nil, err
	}
	return a, nil
}

// Logs returns what the process printed.
func (a *App) Logs() string { return a.proc.logs() }

// Stop ends the process (SIGTERM, then SIGKILL).
func (a *App) Stop() { a.proc.stop(syscall.SIGTERM, 5*time.Second) }
