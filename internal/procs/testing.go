package procs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartRedisT starts a redis-server for t and stops it when t ends; when t
// fails, its log is printed. A missing redis-server fails t with the make
// target that installs it.
func StartRedisT(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := StartRedis(ctx, opts)
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

// NewDaprdT prepares a daprd for t without starting it; it is stopped when
// t ends and its log printed when t failed.
func NewDaprdT(t testing.TB, opts DaprdOptions) *Daprd {
	t.Helper()
	d, err := NewDaprd(opts)
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

// StartDaprdT starts daprd for t and waits until it is ready.
func StartDaprdT(t testing.TB, opts DaprdOptions) *Daprd {
	t.Helper()
	d := NewDaprdT(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatalf("starting daprd %s: %v", opts.AppID, err)
	}
	return d
}

// StartPostgresT starts a PostgreSQL server for t and stops it when t ends;
// when t fails, its log is printed. A missing server fails t with the make
// target that installs it.
func StartPostgresT(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := StartPostgres(ctx, opts)
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

// MainWithBuild is a TestMain body for tests that run one of the project's
// commands as a process: it builds pkg (like "./cmd/violations") into a
// temporary directory, points *bin at the binary, runs the tests and
// removes the directory. It returns the exit code for os.Exit.
func MainWithBuild(m *testing.M, pkg string, bin *string) int {
	dir, err := os.MkdirTemp("", "procs-bin-")
	if err == nil {
		err = GoBuild(context.Background(), dir, pkg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, filepath.Base(pkg))
	return m.Run()
}
