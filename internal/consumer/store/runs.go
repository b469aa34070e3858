package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// runColumns are the columns of runs that scanRun reads, in its order.
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
