package procs

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// broker is what the broker harnesses (Redis, NATS, RabbitMQ, Mosquitto)
// share: one server process with a directory, started and restarted on the
// same ports and directory, ready when probe answers, paused and stopped
// with SIGTERM. Each harness embeds it and fills it in; its methods Start,
// Pause, Stop, Logs and Dir are the harness's.
type broker struct {
	proc *process
	// deps are processes the server needs (RabbitMQ's epmd): launch starts
	// them before it, Stop ends them after it.
	deps []*process
	dir  string
	// ownDir: the directory was made for the broker; Stop removes it.
	ownDir bool
	// ready describes what probe waits for, for its error message.
	ready string
	probe func(context.Context) error
	// wait bounds how long Start waits for probe; grace how long a stop
	// waits after SIGTERM before it kills.
	wait, grace time.Duration
}

// prepare returns the server's binary, found by lookup; it sets *port and
// each of extra, where 0, to a free port, and the broker's directory: dir
// when given, else a new temporary directory named after pattern that Stop
// removes.
func (b *broker) prepare(lookup func() (string, error), port *int, dir, pattern string, extra ...*int) (string, error) {
	bin, err := lookup()
	if err != nil {
		return "", err
	}
	for _, p := range append([]*int{port}, extra...) {
		if *p == 0 {
			if *p, err = FreePort(); err != nil {
				return "", err
			}
		}
	}
	if b.dir = dir; dir == "" {
		if b.dir, err = os.MkdirTemp("", pattern); err != nil {
			return "", err
		}
		b.ownDir = true
	}
	return bin, nil
}

// launch starts deps and the server and waits for it; on failure it stops
// what it started and removes the directory.
func (b *broker) launch(ctx context.Context) error {
	for _, d := range b.deps {
		if err := d.start(); err != nil {
			b.Stop()
			return err
		}
	}
	if err := b.Start(ctx); err != nil {
		b.Stop()
		return err
	}
	return nil
}

// Start (re)starts the server on the same ports and directory and waits
// until it is ready.
func (b *broker) Start(ctx context.Context) error {
	if err := b.proc.start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	return b.proc.waitFor(ctx, b.ready, b.probe)
}

// Pause stops the server (SIGTERM: a clean shutdown, as for a deleted pod;
// SIGKILL after the grace) and keeps its files; Start brings it back on the
// same port.
func (b *broker) Pause() { b.proc.stop(syscall.SIGTERM, b.grace) }

// Stop ends the server and what it needs and removes its files, if the
// harness made the directory.
func (b *broker) Stop() {
	if b.proc != nil {
		b.proc.stop(syscall.SIGTERM, b.grace)
	}
	for _, d := range b.deps {
		d.stop(syscall.SIGTERM, 5*time.Second)
	}
	if b.ownDir {
		_ = os.RemoveAll(b.dir)
	}
}

// Logs returns the server's output.
func (b *broker) Logs() string { return b.proc.logs() }

// Dir is the server's directory.
func (b *broker) Dir() string { return filepath.Clean(b.dir) }

// talk connects to 127.0.0.1:port and runs f on the connection with a
// deadline: a readiness probe that speaks the broker's protocol.
func talk(ctx context.Context, port int, deadline time.Duration, f func(net.Conn) error) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(deadline))
	return f(c)
}
