package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// lockCluster serialises finalisation of one cluster inside tx.
	lockCluster func(ctx context.Context, tx *sql.Tx, cluster string) error
	// rebind turns the ?-placeholders of a statement into the dialect's.
	rebind func(string) string
	// analyze, if set, refreshes the planner's statistics before a run is
	// finalised (a run's sightings arrive between two finalisations, so
	// the statistics of the last autovacuum are always stale).
	analyze func(ctx context.Context, tx *sql.Tx) error
}

// sqlStore implements Store on database/sql.
type sqlStore struct {
	db *sql.DB
	d  dialect
	// local serialises finalisation within this process (SQLite has a
	// single writer anyway; PostgreSQL adds an advisory lock).
	local    sync.Mutex
	mu       sync.Mutex
	stmts    map[string]string
	prepared map[string]*sql.Stmt
}

// maxPrepared bounds the statements kept prepared (on every connection
// that ran them): the fixed statements and the multi-row shapes that
// batches of up to a few dozen messages use. Statements beyond it are
// prepared for each use, as before.
const maxPrepared = 160

func newSQLStore(db *sql.DB, d dialect) *sqlStore {
	return &sqlStore{db: db, d: d, stmts: map[string]string{}, prepared: map[string]*sql.Stmt{}}
}

// stmt returns query (already in the dialect's placeholders) prepared once
// on the database and bound to tx, or nil when the cache is full.
// Preparing is most of a small statement's cost in SQLite: the receiving
// path runs the same dozen statements for every batch.
func (s *sqlStore) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	p, ok := s.prepared[query]
	full := len(s.prepared) >= maxPrepared
	s.mu.Unlock()
	if !ok {
		if full {
			return nil, nil
		}
		var err error
		if p, err = s.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if q, raced := s.prepared[query]; raced {
			_ = p.Close()
			p = q
		} else {
			s.prepared[query] = p
		}
		s.mu.Unlock()
	}
	return tx.StmtContext(ctx, p), nil
}

func (s *sqlStore) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	p, err := s.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return tx.ExecContext(ctx, query, args...)
	}
	return p.ExecContext(ctx, args...)
}

func (s *sqlStore) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	p, err := s.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return tx.QueryContext(ctx, query, args...)
	}
	return p.QueryContext(ctx, args...)
}

// row is a single-row query's result or its error, as sql.Row but also
// for a failed prepare.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (s *sqlStore) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) row {
	p, err := s.stmt(ctx, tx, query)
	if err != nil {
		return row{err: err}
	}
	if p == nil {
		return row{r: tx.QueryRowContext(ctx, query, args...)}
	}
	return row{r: p.QueryRowContext(ctx, args...)}
}

// q returns the statement in the dialect's placeholders (cached).
func (s *sqlStore) q(query string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.stmts[query]; ok {
		return r
	}
	r := s.d.rebind(query)
	s.stmts[query] = r
	return r
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func (s *sqlStore) Close() error {
	s.mu.Lock()
	for _, p := range s.prepared {
		_ = p.Close()
	}
	s.prepared = map[string]*sql.Stmt{}
	s.mu.Unlock()
	return s.db.Close()
}

func (s *sqlStore) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%s store: %w", s.d.name, err)
	}
	return nil
}

func (s *sqlStore) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s store: begin: %w", s.d.name, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s store: commit: %w", s.d.name, err)
	}
	return nil
}
