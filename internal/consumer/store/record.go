package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// runConstraint is one constraint of one run, counted as a batch is recorded.
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
