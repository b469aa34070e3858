package procs

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // readiness checks through database/sql
)

// PostgresOptions configure a PostgreSQL server.
type PostgresOptions struct {
	// Database made for the tests (default "violations").
	Database string
	// Tee receives the server's output as it is written (for the demo).
	Tee func([]byte)
}

// Postgres is a running PostgreSQL server listening on a unix socket only,
// in a short directory under /tmp (a socket path is limited to 107 bytes).
// As root, initdb and postgres run as the postgres user (both refuse root).
type Postgres struct {
	// Dir holds the data directory and the socket.
	Dir      string
	Database string
	User     string
	proc     *process
	bin      string
	cred     *syscall.Credential
}

// PostgresBinDir returns the directory of Debian's PostgreSQL server
// binaries: $POSTGRES_BIN, else the newest /usr/lib/postgresql/*/bin.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("POSTGRES_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: PostgreSQL's server (postgres, initdb) not found under /usr/lib/postgresql/*/bin: run `make postgres` (installs Debian's postgresql)", ErrMissing)
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// StartPostgres makes a new cluster with initdb and starts postgres on a
// unix socket, then creates the database.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	if opts.Database == "" {
		opts.Database = "violations"
	}
	dir, err := os.MkdirTemp("/tmp", "pg")
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, Database: opts.Database, bin: bin, User: "violations"}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("%w: running PostgreSQL as root needs the postgres user: run `make postgres` (installs Debian's postgresql, which adds it): %w", ErrMissing, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} //nolint:gosec // G115: user and group IDs from /etc/passwd fit
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", p.User, "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	p.proc = &process{name: "postgres", path: filepath.Join(bin, "postgres"), dir: dir, cred: p.cred, out: &syncBuffer{tee: opts.Tee},
		args: []string{"-D", data, "-k", dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=100",
			"-c", "shared_buffers=64MB"}}
	if err := p.Start(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	if err := CreateDatabase(ctx, p, opts.Database); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func quoteIdent(s string) string { return `"` + s + `"` }

// URL is the database's URL, as `violations serve --store` takes it.
func (p *Postgres) URL() string { return p.url(p.Database) }

// URLFor is the URL of another database on the server.
func (p *Postgres) URLFor(db string) string { return p.url(db) }

// CreateDatabase makes another database on the server.
func CreateDatabase(ctx context.Context, p *Postgres, name string) error {
	db, err := sql.Open("pgx", p.url("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

func (p *Postgres) url(db string) string {
	q := url.Values{"host": {p.Dir}, "sslmode": {"disable"}}
	return "postgres://" + p.User + "@/" + db + "?" + q.Encode()
}

// Start (re)starts the server and waits until it accepts connections.
func (p *Postgres) Start(ctx context.Context) error {
	if err := p.proc.start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return p.proc.waitFor(ctx, "accepting connections on "+p.Dir, func(ctx context.Context) error {
		db, err := sql.Open("pgx", p.url("postgres"))
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	})
}

// Pause stops the server (fast shutdown) and keeps its data; Start brings
// it back.
func (p *Postgres) Pause() { p.proc.stop(syscall.SIGINT, 10*time.Second) }

// Stop ends the server and removes its files.
func (p *Postgres) Stop() {
	if p.proc != nil {
		p.proc.stop(syscall.SIGINT, 10*time.Second)
	}
	if p.Dir != "" {
		_ = os.RemoveAll(p.Dir)
	}
}

// Logs returns the server's output.
func (p *Postgres) Logs() string {
	if p.proc == nil {
		return ""
	}
	return p.proc.logs()
}
