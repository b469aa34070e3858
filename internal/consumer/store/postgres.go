package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for database/sql, registered as "pgx"
)

// migrationLock is the advisory lock key replicas take while migrating.
const migrationLock = 0x76696f6c // "viol"

// OpenPostgres opens the PostgreSQL database that url names (libpq's URL
// form, as pgx reads it) and migrates it.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres store %s: %w", Redact(url), err)
	}
	db.SetMaxOpenConns(16)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres store %s: %w", Redact(url), err)
	}
	lock := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock)
		return err
	}
	// Replicas starting together: the first creates schema_migrations,
	// the others wait on the lock.
	if err := withMigrationLock(ctx, db, func() error { return migrate(ctx, db, "postgres", rebindDollar, lock) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres store %s: %w", Redact(url), err)
	}
	return newSQLStore(db, dialect{
		name:   "postgres",
		rebind: rebindDollar,
		// Without it a run's first finalisation planned its sightings as
		// empty and took 84 s for 20,000 violations (0.6 s with it).
		analyze: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `ANALYZE sightings, violations`)
			return err
		},
		lockCluster: func(ctx context.Context, tx *sql.Tx, cluster string) error {
			_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "violations-finalize/"+cluster)
			return err
		},
	}), nil
}

// withMigrationLock holds a session advisory lock on one connection while
// fn runs.
func withMigrationLock(ctx context.Context, db *sql.DB, fn func() error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock+1); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock+1)
	}()
	return fn()
}

// rebindDollar turns ? placeholders into $1, $2, … (no statement here has
// a ? inside a literal).
func rebindDollar(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
