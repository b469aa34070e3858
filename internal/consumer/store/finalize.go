package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

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
