package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

type runConstraint struct {
	run int64
	c   Constraint
}

// Record implements Store.
func (s *sqlStore) Record(ctx context.Context, cluster string, batch []Message) (RecordResult, error) {
	var res RecordResult
	now := ms(time.Now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = RecordResult{}
		states := map[int64]string{}
		counts := map[runConstraint]int{}
		received := map[int64]int{}
		var violations []item
		var latestJudged sql.NullInt64
		if err := s.queryRow(ctx, tx, s.q(`SELECT max(run) FROM runs WHERE cluster = ? AND state <> ?`), cluster, RunPending).Scan(&latestJudged); err != nil {
			return fmt.Errorf("reading the latest judged run: %w", err)
		}
		runState := func(run int64) (string, error) {
			if st, ok := states[run]; ok {
				return st, nil
			}
			if latestJudged.Valid && run <= latestJudged.Int64 {
				// A redelivery from before the newest judged run (its row
				// may be pruned): it changes nothing.
				var st string
				err := s.queryRow(ctx, tx, s.q(`SELECT state FROM runs WHERE cluster = ? AND run = ?`), cluster, run).Scan(&st)
				if errors.Is(err, sql.ErrNoRows) {
					st = RunIncomplete
				} else if err != nil {
					return "", fmt.Errorf("reading run: %w", err)
				}
				if st == RunPending {
					st = RunIncomplete
				}
				states[run] = st
				return st, nil
			}
			// One statement records the run if new and reads its state
			// (the no-op update makes RETURNING answer for an existing row).
			var st string
			if err := s.queryRow(ctx, tx, s.q(`INSERT INTO runs (cluster, run, state, first_received) VALUES (?, ?, ?, ?)
ON CONFLICT (cluster, run) DO UPDATE SET state = runs.state RETURNING state`), cluster, run, RunPending, now).Scan(&st); err != nil {
				return "", fmt.Errorf("recording run: %w", err)
			}
			states[run] = st
			return st, nil
		}
		for _, m := range batch {
			run := ms(m.Run)
			st, err := runState(run)
			if err != nil {
				return err
			}
			if st != RunPending {
				res.Ignored++
				continue
			}
			switch m.Kind {
			case KindStarted:
				if _, err := s.exec(ctx, tx, s.q(`UPDATE runs SET started_marker = 1 WHERE cluster = ? AND run = ?`), cluster, run); err != nil {
					return fmt.Errorf("recording run start: %w", err)
				}
			case KindCompleted:
				if _, err := s.exec(ctx, tx, s.q(`UPDATE runs SET completed_at = COALESCE(completed_at, ?) WHERE cluster = ? AND run = ?`), now, cluster, run); err != nil {
					return fmt.Errorf("recording run end: %w", err)
				}
			case KindViolation:
				violations = append(violations, item{run: run, key: Key(cluster, m.Violation), v: m.Violation})
			}
		}
		added, err := s.recordViolations(ctx, tx, cluster, violations, &res)
		if err != nil {
			return err
		}
		for _, it := range added {
			counts[runConstraint{it.run, Constraint{it.v.Group, it.v.Kind, it.v.Name}}]++
			received[it.run]++
		}
		for rc, n := range counts {
			if _, err := s.exec(ctx, tx, s.q(`INSERT INTO run_constraints (cluster, run, c_group, c_kind, c_name, received) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (cluster, run, c_group, c_kind, c_name) DO UPDATE SET received = run_constraints.received + excluded.received`),
				cluster, rc.run, rc.c.Group, rc.c.Kind, rc.c.Name, n); err != nil {
				return fmt.Errorf("counting violations per constraint: %w", err)
			}
		}
		for run, n := range received {
			if _, err := s.exec(ctx, tx, s.q(`UPDATE runs SET received = received + ? WHERE cluster = ? AND run = ?`), n, cluster, run); err != nil {
				return fmt.Errorf("counting violations of run: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return RecordResult{}, err
	}
	return res, nil
}

// ObserveStatus implements Store.
func (s *sqlStore) ObserveStatus(ctx context.Context, cluster string, obs StatusObservation, at time.Time) error {
	run := ms(obs.Run)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, s.q(`INSERT INTO runs (cluster, run, state, first_received) VALUES (?, ?, ?, ?) ON CONFLICT (cluster, run) DO NOTHING`),
			cluster, run, RunPending, ms(at)); err != nil {
			return fmt.Errorf("recording run: %w", err)
		}
		var st string
		if err := s.queryRow(ctx, tx, s.q(`SELECT state FROM runs WHERE cluster = ? AND run = ?`), cluster, run).Scan(&st); err != nil {
			return fmt.Errorf("reading run: %w", err)
		}
		if st != RunPending {
			return nil
		}
		for c, n := range obs.Constraints {
			if _, err := s.exec(ctx, tx, s.q(`INSERT INTO run_constraints (cluster, run, c_group, c_kind, c_name, expected) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (cluster, run, c_group, c_kind, c_name) DO UPDATE SET expected = excluded.expected`),
				cluster, run, c.Group, c.Kind, c.Name, n); err != nil {
				return fmt.Errorf("recording constraint status: %w", err)
			}
		}
		if _, err := s.exec(ctx, tx, s.q(`UPDATE runs SET status_at = COALESCE(status_at, ?) WHERE cluster = ? AND run = ?`), ms(at), cluster, run); err != nil {
			return fmt.Errorf("recording status time: %w", err)
		}
		return nil
	})
}

const runColumns = `cluster, run, started_marker, completed_at, status_at, state, reason, received, new_count, still_open, resolved_count, would_resolve, finalized_at`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var (
		r                          Run
		run                        int64
		started                    int64
		completed, status, finally sql.NullInt64
	)
	if err := sc.Scan(&r.Cluster, &run, &started, &completed, &status, &r.State, &r.Reason, &r.Received, &r.New, &r.StillOpen, &r.Resolved, &r.WouldResolve, &finally); err != nil {
		return r, err
	}
	r.ID = fromMS(run)
	r.Started = started != 0
	r.CompletedAt = fromNullMS(completed)
	r.StatusAt = fromNullMS(status)
	r.FinalizedAt = fromNullMS(finally)
	return r, nil
}

func (s *sqlStore) queryRuns(ctx context.Context, query string, args ...any) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("reading run: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	for i := range runs {
		if runs[i].Constraints, err = s.runConstraints(ctx, runs[i].Cluster, ms(runs[i].ID)); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

func (s *sqlStore) runConstraints(ctx context.Context, cluster string, run int64) ([]ConstraintCount, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c_group, c_kind, c_name, received, expected FROM run_constraints WHERE cluster = ? AND run = ? ORDER BY c_kind, c_name, c_group`), cluster, run)
	if err != nil {
		return nil, fmt.Errorf("listing a run's constraints: %w", err)
	}
	defer rows.Close()
	var out []ConstraintCount
	for rows.Next() {
		var c ConstraintCount
		if err := rows.Scan(&c.Group, &c.Kind, &c.Name, &c.Received, &c.Expected); err != nil {
			return nil, fmt.Errorf("reading a run's constraint: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PendingRuns implements Store.
func (s *sqlStore) PendingRuns(ctx context.Context, cluster string) ([]Run, error) {
	return s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE cluster = ? AND state = ? ORDER BY run`, cluster, RunPending)
}

// Runs implements Store.
func (s *sqlStore) Runs(ctx context.Context, cluster string, limit int) ([]Run, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if cluster == "" {
		return s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs ORDER BY run DESC, cluster LIMIT ?`, limit)
	}
	return s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE cluster = ? ORDER BY run DESC LIMIT ?`, cluster, limit)
}

// MarkIncomplete implements Store.
func (s *sqlStore) MarkIncomplete(ctx context.Context, cluster string, run time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET state = ?, reason = ?, finalized_at = ? WHERE cluster = ? AND run = ? AND state = ?`),
		RunIncomplete, reason, ms(time.Now()), cluster, ms(run), RunPending)
	if err != nil {
		return fmt.Errorf("marking run incomplete: %w", err)
	}
	return nil
}

func count(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// Finalize implements Store.
func (s *sqlStore) Finalize(ctx context.Context, cluster string, runAt time.Time, opts FinalizeOptions) (Run, error) {
	if opts.ResolveAfter < 1 {
		opts.ResolveAfter = 1
	}
	if opts.MaxResolveShare <= 0 || opts.MaxResolveShare > 1 {
		opts.MaxResolveShare = 1
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	s.local.Lock()
	defer s.local.Unlock()
	run := ms(runAt)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.d.lockCluster(ctx, tx, cluster); err != nil {
			return fmt.Errorf("locking cluster %q: %w", cluster, err)
		}
		var st string
		if err := s.queryRow(ctx, tx, s.q(`SELECT state FROM runs WHERE cluster = ? AND run = ?`), cluster, run).Scan(&st); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("run %s of cluster %q: %w", runAt.UTC().Format(time.RFC3339), cluster, ErrNotFound)
			}
			return fmt.Errorf("reading run: %w", err)
		}
		if st != RunPending {
			return nil // judged already, by this replica or another
		}
		if s.d.analyze != nil {
			if err := s.d.analyze(ctx, tx); err != nil {
				return fmt.Errorf("refreshing statistics: %w", err)
			}
		}
		var prevState string
		err := s.queryRow(ctx, tx, s.q(`SELECT state FROM runs WHERE cluster = ? AND run < ? AND state IN (?, ?) ORDER BY run DESC LIMIT 1`),
			cluster, run, RunFinalized, RunHeld).Scan(&prevState)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading the previous run: %w", err)
		}
		seen, err := s.exec(ctx, tx, s.q(`UPDATE violations SET last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END, run_count = run_count + 1, miss_count = 0, first_missed = NULL
WHERE cluster = ? AND state = ? AND id IN (SELECT violation_id FROM sightings WHERE cluster = ? AND run = ?)`),
			run, run, cluster, StateOpen, cluster, run)
		if err != nil {
			return fmt.Errorf("marking violations seen: %w", err)
		}
		stillOpen, _ := seen.RowsAffected()
		if _, err := s.exec(ctx, tx, s.q(`UPDATE violations SET miss_count = miss_count + 1, first_missed = COALESCE(first_missed, ?)
WHERE cluster = ? AND state = ? AND first_seen <= ? AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.cluster = ? AND s.run = ? AND s.violation_id = violations.id)`),
			run, cluster, StateOpen, run, cluster, run); err != nil {
			return fmt.Errorf("marking violations missed: %w", err)
		}
		would, err := count(ctx, tx, s.q(`SELECT count(*) FROM violations WHERE cluster = ? AND state = ? AND miss_count >= ?`), cluster, StateOpen, opts.ResolveAfter)
		if err != nil {
			return fmt.Errorf("counting violations to resolve: %w", err)
		}
		open, err := count(ctx, tx, s.q(`SELECT count(*) FROM violations WHERE cluster = ? AND state = ? AND first_seen <= ?`), cluster, StateOpen, run)
		if err != nil {
			return fmt.Errorf("counting open violations: %w", err)
		}
		newCount, err := count(ctx, tx, s.q(`SELECT count(*) FROM violations WHERE cluster = ? AND first_seen = ?`), cluster, run)
		if err != nil {
			return fmt.Errorf("counting new violations: %w", err)
		}
		state, reason, resolved := RunFinalized, "", 0
		if would > 0 && prevState != RunHeld && float64(would) > opts.MaxResolveShare*float64(open) {
			state = RunHeld
			reason = fmt.Sprintf("would resolve %d of %d open violations (more than %s): held until the next complete run agrees",
				would, open, strconv.FormatFloat(opts.MaxResolveShare*100, 'f', -1, 64)+"%")
		} else if would > 0 {
			if _, err := s.exec(ctx, tx, s.q(`INSERT INTO events (violation_id, at, run, kind, reason)
SELECT id, first_missed, ?, ?, ? FROM violations WHERE cluster = ? AND state = ? AND miss_count >= ?`),
				run, EventResolved, ReasonAbsent, cluster, StateOpen, opts.ResolveAfter); err != nil {
				return fmt.Errorf("recording resolutions: %w", err)
			}
			r, err := s.exec(ctx, tx, s.q(`UPDATE violations SET state = ?, resolved_at = first_missed, resolved_run = ?, reason = ?
WHERE cluster = ? AND state = ? AND miss_count >= ?`), StateResolved, run, ReasonAbsent, cluster, StateOpen, opts.ResolveAfter)
			if err != nil {
				return fmt.Errorf("resolving violations: %w", err)
			}
			n, _ := r.RowsAffected()
			resolved = int(n)
		}
		if _, err := s.exec(ctx, tx, s.q(`UPDATE runs SET state = ?, reason = ?, new_count = ?, still_open = ?, resolved_count = ?, would_resolve = ?, finalized_at = ?
WHERE cluster = ? AND run = ?`), state, reason, newCount, stillOpen, resolved, would, ms(opts.Now), cluster, run); err != nil {
			return fmt.Errorf("finalising run: %w", err)
		}
		if _, err := s.exec(ctx, tx, s.q(`UPDATE runs SET state = ?, reason = ?, finalized_at = ? WHERE cluster = ? AND run < ? AND state = ?`),
			RunIncomplete, "a newer run was complete first", ms(opts.Now), cluster, run, RunPending); err != nil {
			return fmt.Errorf("superseding older runs: %w", err)
		}
		if _, err := s.exec(ctx, tx, s.q(`DELETE FROM sightings WHERE cluster = ? AND run <= ?`), cluster, run); err != nil {
			return fmt.Errorf("pruning sightings: %w", err)
		}
		return nil
	})
	if err != nil {
		return Run{}, err
	}
	runs, err := s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE cluster = ? AND run = ?`, cluster, run)
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, ErrNotFound
	}
	return runs[0], nil
}

// ResolveConstraint implements Store.
func (s *sqlStore) ResolveConstraint(ctx context.Context, cluster string, c Constraint, at time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var latest sql.NullInt64
		if err := s.queryRow(ctx, tx, s.q(`SELECT max(run) FROM runs WHERE cluster = ?`), cluster).Scan(&latest); err != nil {
			return fmt.Errorf("reading the latest run: %w", err)
		}
		where := `WHERE cluster = ? AND state = ? AND c_group = ? AND c_kind = ? AND c_name = ?`
		args := []any{cluster, StateOpen, c.Group, c.Kind, c.Name}
		if _, err := s.exec(ctx, tx, s.q(`INSERT INTO events (violation_id, at, run, kind, reason) SELECT id, ?, ?, ?, ? FROM violations `+where),
			append([]any{ms(at), latest, EventResolved, ReasonConstraintDeleted}, args...)...); err != nil {
			return fmt.Errorf("recording resolutions: %w", err)
		}
		r, err := s.exec(ctx, tx, s.q(`UPDATE violations SET state = ?, resolved_at = ?, resolved_run = ?, reason = ? `+where),
			append([]any{StateResolved, ms(at), latest, ReasonConstraintDeleted}, args...)...)
		if err != nil {
			return fmt.Errorf("resolving violations of %s %s: %w", c.Kind, c.Name, err)
		}
		n, _ = r.RowsAffected()
		return nil
	})
	return int(n), err
}

// OpenConstraints implements Store.
func (s *sqlStore) OpenConstraints(ctx context.Context, cluster string) ([]Constraint, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT c_group, c_kind, c_name FROM violations WHERE cluster = ? AND state = ? ORDER BY c_kind, c_name`), cluster, StateOpen)
	if err != nil {
		return nil, fmt.Errorf("listing constraints: %w", err)
	}
	defer rows.Close()
	var out []Constraint
	for rows.Next() {
		var c Constraint
		if err := rows.Scan(&c.Group, &c.Kind, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const violationColumns = `id, vkey, cluster, c_group, c_kind, c_name, r_group, r_version, r_kind, r_namespace, r_name, message, enforcement_action, labels, state, first_seen, last_seen, resolved_at, reason, run_count`

func scanViolation(sc interface{ Scan(...any) error }) (Violation, error) {
	var (
		v           Violation
		labels      string
		first, last int64
		resolved    sql.NullInt64
	)
	if err := sc.Scan(&v.ID, &v.Key, &v.Cluster, &v.Constraint.Group, &v.Constraint.Kind, &v.Constraint.Name,
		&v.Resource.Group, &v.Resource.Version, &v.Resource.Kind, &v.Resource.Namespace, &v.Resource.Name,
		&v.Message, &v.EnforcementAction, &labels, &v.State, &first, &last, &resolved, &v.Reason, &v.RunCount); err != nil {
		return v, err
	}
	if labels != "" && labels != "{}" {
		if err := json.Unmarshal([]byte(labels), &v.Labels); err != nil {
			return v, fmt.Errorf("labels of violation %s: %w", v.Key, err)
		}
	}
	v.FirstSeen, v.LastSeen, v.ResolvedAt = fromMS(first), fromMS(last), fromNullMS(resolved)
	return v, nil
}

// likeEscaper escapes LIKE's wildcards with the ESCAPE character '!' (not a
// backslash, which PostgreSQL reads differently without
// standard_conforming_strings).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// Violations implements Store.
func (s *sqlStore) Violations(ctx context.Context, f Filter) ([]Violation, error) {
	var (
		where []string
		args  []any
	)
	add := func(col, val string) {
		if val != "" {
			where = append(where, col+" = ?")
			args = append(args, val)
		}
	}
	add("cluster", f.Cluster)
	add("state", f.State)
	add("r_namespace", f.Namespace)
	add("c_kind", f.ConstraintKind)
	add("c_name", f.ConstraintName)
	add("r_kind", f.ResourceKind)
	add("enforcement_action", f.EnforcementAction)
	if f.Search != "" {
		// A substring, not a pattern: the user's wildcards are escaped.
		// The database's lower() on both sides makes it case-insensitive
		// in PostgreSQL (whose LIKE is not) as in SQLite, and folds both
		// alike (SQLite's folds ASCII letters only).
		pattern := "%" + likeEscaper.Replace(f.Search) + "%"
		where = append(where, `(lower(message) LIKE lower(?) ESCAPE '!' OR lower(r_name) LIKE lower(?) ESCAPE '!' OR lower(r_namespace) LIKE lower(?) ESCAPE '!' OR lower(c_name) LIKE lower(?) ESCAPE '!')`)
		args = append(args, pattern, pattern, pattern, pattern)
	}
	where = append(where, "id > ?")
	args = append(args, f.After)
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+violationColumns+` FROM violations WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing violations: %w", err)
	}
	defer rows.Close()
	out := []Violation{}
	for rows.Next() {
		v, err := scanViolation(rows)
		if err != nil {
			return nil, fmt.Errorf("reading violation: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Violation implements Store.
func (s *sqlStore) Violation(ctx context.Context, key string) (Violation, []Event, error) {
	v, err := scanViolation(s.db.QueryRowContext(ctx, s.q(`SELECT `+violationColumns+` FROM violations WHERE vkey = ?`), key))
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil, fmt.Errorf("violation %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return v, nil, fmt.Errorf("reading violation %s: %w", key, err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT at, run, kind, reason FROM events WHERE violation_id = ? ORDER BY at, kind`), v.ID)
	if err != nil {
		return v, nil, fmt.Errorf("reading the timeline of %s: %w", key, err)
	}
	defer rows.Close()
	events := []Event{}
	for rows.Next() {
		var (
			e   Event
			at  int64
			run sql.NullInt64
		)
		if err := rows.Scan(&at, &run, &e.Kind, &e.Reason); err != nil {
			return v, nil, fmt.Errorf("reading the timeline of %s: %w", key, err)
		}
		e.At = fromMS(at)
		if run.Valid {
			e.Run = fromMS(run.Int64)
		}
		events = append(events, e)
	}
	return v, events, rows.Err()
}

// OpenCounts implements Store.
func (s *sqlStore) OpenCounts(ctx context.Context) ([]OpenCount, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT cluster, c_kind, c_name, r_namespace, enforcement_action, count(*) FROM violations WHERE state = ?
GROUP BY cluster, c_kind, c_name, r_namespace, enforcement_action`), StateOpen)
	if err != nil {
		return nil, fmt.Errorf("counting open violations: %w", err)
	}
	defer rows.Close()
	var out []OpenCount
	for rows.Next() {
		var c OpenCount
		if err := rows.Scan(&c.Cluster, &c.ConstraintKind, &c.ConstraintName, &c.Namespace, &c.EnforcementAction, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastComplete implements Store.
func (s *sqlStore) LastComplete(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT cluster, max(run) FROM runs WHERE state IN (?, ?) GROUP BY cluster`), RunFinalized, RunHeld)
	if err != nil {
		return nil, fmt.Errorf("reading the last complete runs: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var (
			c   string
			run int64
		)
		if err := rows.Scan(&c, &run); err != nil {
			return nil, err
		}
		out[c] = fromMS(run)
	}
	return out, rows.Err()
}

// Prune implements Store.
func (s *sqlStore) Prune(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cut := ms(t)
		if _, err := s.exec(ctx, tx, s.q(`DELETE FROM events WHERE violation_id IN (SELECT id FROM violations WHERE state = ? AND resolved_at < ?)`), StateResolved, cut); err != nil {
			return fmt.Errorf("pruning events: %w", err)
		}
		r, err := s.exec(ctx, tx, s.q(`DELETE FROM violations WHERE state = ? AND resolved_at < ?`), StateResolved, cut)
		if err != nil {
			return fmt.Errorf("pruning violations: %w", err)
		}
		n, _ = r.RowsAffected()
		if _, err := s.exec(ctx, tx, s.q(`DELETE FROM run_constraints WHERE run < ? AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.cluster = run_constraints.cluster AND runs.run = run_constraints.run AND runs.state = ?)`), cut, RunPending); err != nil {
			return fmt.Errorf("pruning runs: %w", err)
		}
		if _, err := s.exec(ctx, tx, s.q(`DELETE FROM runs WHERE run < ? AND state <> ?`), cut, RunPending); err != nil {
			return fmt.Errorf("pruning runs: %w", err)
		}
		if _, err := s.exec(ctx, tx, s.q(`DELETE FROM alert_outbox WHERE sent_at < ?`), cut); err != nil {
			return fmt.Errorf("pruning sent alerts: %w", err)
		}
		return nil
	})
	return int(n), err
}
