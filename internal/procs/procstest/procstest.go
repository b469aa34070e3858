// Package procstest starts the processes of package procs for a test: each
// helper fails the test when the process cannot start, stops it when the
// test ends and prints its log when the test failed. Only tests import it,
// so the commands that use procs do not link package testing.
package procstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// StartRedis starts a redis-server for t and stops it when t ends; when t
// fails, its log is printed. A missing redis-server fails t with the make
// target that installs it.
func StartRedis(t testing.TB, opts procs.RedisOptions) *procs.Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := procs.StartRedis(ctx, opts)
	if err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("redis-server %s output:\n%s", r.Addr, r.Logs())
		}
		r.Stop()
	})
	return r
}

// NewDaprd prepares a daprd for t without starting it; it is stopped when
// t ends and its log printed when t failed.
func NewDaprd(t testing.TB, opts procs.DaprdOptions) *procs.Daprd {
	t.Helper()
	d, err := procs.NewDaprd(opts)
	if err != nil {
		t.Fatalf("preparing daprd %s: %v", opts.AppID, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daprd %s output:\n%s", d.AppID, d.Logs())
		}
		d.Stop()
	})
	return d
}

// StartDaprd starts daprd for t and waits until it is ready.
func StartDaprd(t testing.TB, opts procs.DaprdOptions) *procs.Daprd {
	t.Helper()
	d := NewDaprd(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatalf("starting daprd %s: %v", opts.AppID, err)
	}
	return d
}

// StartPostgres starts a PostgreSQL server for t and stops it when t ends;
// when t fails, its log is printed. A missing server fails t with the make
// target that installs it.
func StartPostgres(t testing.TB, opts procs.PostgresOptions) *procs.Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := procs.StartPostgres(ctx, opts)
	if err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postgres output:\n%s", p.Logs())
		}
		p.Stop()
	})
	return p
}

// StartNATS starts nats-server with JetStream for t and stops it when t
// ends; when t fails, its log is printed. A missing nats-server fails t
// with the make target that builds it.
func StartNATS(t testing.TB, opts procs.NATSOptions) *procs.NATS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := procs.StartNATS(ctx, opts)
	if err != nil {
		t.Fatalf("starting nats-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nats-server %s output:\n%s", n.URL, n.Logs())
		}
		n.Stop()
	})
	return n
}

// StartRabbitMQ starts a RabbitMQ node for t and stops it when t ends;
// when t fails, its log is printed. A missing rabbitmq-server fails t with
// the make target that installs it.
func StartRabbitMQ(t testing.TB, opts procs.RabbitMQOptions) *procs.RabbitMQ {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	r, err := procs.StartRabbitMQ(ctx, opts)
	if err != nil {
		t.Fatalf("starting rabbitmq-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rabbitmq-server %s output:\n%s", r.Node, r.Logs())
		}
		r.Stop()
	})
	return r
}

// StartMosquitto starts mosquitto for t and stops it when t ends; when t
// fails, its log is printed. A missing mosquitto fails t with the make
// target that installs it.
func StartMosquitto(t testing.TB, opts procs.MosquittoOptions) *procs.Mosquitto {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := procs.StartMosquitto(ctx, opts)
	if err != nil {
		t.Fatalf("starting mosquitto: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mosquitto %s output:\n%s", m.URL, m.Logs())
		}
		m.Stop()
	})
	return m
}

// StartRegistry starts an OCI registry for t on 127.0.0.1:<free port> and
// stops it when t ends; when t fails, its log is printed. A missing
// registry binary fails t with the make target that builds it.
func StartRegistry(t testing.TB) *procs.Registry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := procs.StartRegistry(ctx, procs.RegistryOptions{})
	if err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("registry %s output:\n%s", r.Addr, r.Logs())
		}
		r.Stop()
	})
	return r
}

// MainWithBuild is a TestMain body for tests that run one of the project's
// commands as a process: it builds pkg (like "./cmd/violations") into a
// temporary directory, points *bin at the binary, runs the tests and
// removes the directory. It returns the exit code for os.Exit.
func MainWithBuild(m *testing.M, pkg string, bin *string) int {
	dir, err := os.MkdirTemp("", "procs-bin-")
	if err == nil {
		err = procs.GoBuild(context.Background(), dir, pkg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, filepath.Base(pkg))
	return m.Run()
}
