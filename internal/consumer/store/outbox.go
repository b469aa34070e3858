package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Alerts is the store's side of alerting on change: which complete run's
// changes are due, those changes, and the outbox that the senders drain.
// The outbox is what makes alerts at-least-once: an alert is written in
// the same transaction that moves the cluster's cursor past its run, and
// leaves the outbox only when its receiver accepted it.
type Alerts interface {
	// NextAlertRun returns the oldest complete (finalized or held) run
	// after the cluster's alert cursor, false when there is none. The
	// first call for a cluster places the cursor at its newest complete
	// run: enabling alerts on a store with history alerts on what changes
	// from then on, not on the history.
	NextAlertRun(ctx context.Context, cluster string) (AlertRun, bool, error)
	// ForEachChange calls fn for each change of the run: the violations
	// opened or reopened in runs after the cursor up to it, those it
	// resolved, and those resolved because their constraint was deleted
	// since the cursor's run was judged. Order: by kind, then violation.
	ForEachChange(ctx context.Context, ar AlertRun, fn func(Change) error) error
	// EnqueueAlerts moves the cursor to the run and adds the alerts in one
	// transaction. If the cursor moved meanwhile (another replica), it does
	// nothing; an alert whose key is stored already is skipped.
	EnqueueAlerts(ctx context.Context, ar AlertRun, alerts []OutboxAlert) error
	// ClaimAlert takes the route's oldest unsent alert if it is due and no
	// one holds it, for lease. Alerts of a route leave in order: a later
	// one waits for the one before.
	ClaimAlert(ctx context.Context, route string, now time.Time, lease time.Duration) (OutboxAlert, bool, error)
	// AlertSent marks a claimed alert accepted by its receiver.
	AlertSent(ctx context.Context, id int64, at time.Time) error
	// AlertFailed releases a claimed alert to be tried again at next.
	AlertFailed(ctx context.Context, id int64, next time.Time, reason string) error
	// PendingAlerts counts the unsent alerts per route.
	PendingAlerts(ctx context.Context) (map[string]int, error)
}

// AlertRun is a complete run whose changes are due for alerting.
type AlertRun struct {
	Cluster     string
	Run         time.Time
	State       string // RunFinalized or RunHeld
	FinalizedAt time.Time
	// Since is the cursor: the run alerted before, and when it was judged
	// (zero for a cluster's first).
	Since, SinceFinalizedAt time.Time
}

// Change is one change of a violation that an alert tells.
type Change struct {
	Kind   string // EventOpened, EventReopened or EventResolved
	Reason string
	At     time.Time
	Violation
}

// OutboxAlert is an alert in the outbox.
type OutboxAlert struct {
	ID      int64
	Route   string
	Cluster string
	Run     time.Time
	// Key identifies the alert for the receiver (the same on every
	// attempt), so it can drop repeats.
	Key      string
	Body     []byte
	Attempts int
}

func (s *sqlStore) NextAlertRun(ctx context.Context, cluster string) (AlertRun, bool, error) {
	ar := AlertRun{Cluster: cluster}
	var since, sinceAt int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT run, finalized_at FROM alert_cursor WHERE cluster = ?`), cluster).Scan(&since, &sinceAt)
	if errors.Is(err, sql.ErrNoRows) {
		var run, at sql.NullInt64
		if err := s.db.QueryRowContext(ctx, s.q(`SELECT run, finalized_at FROM runs WHERE cluster = ? AND state IN (?, ?) ORDER BY run DESC LIMIT 1`),
			cluster, RunFinalized, RunHeld).Scan(&run, &at); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return ar, false, fmt.Errorf("reading the newest complete run: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO alert_cursor (cluster, run, finalized_at) VALUES (?, ?, ?) ON CONFLICT (cluster) DO NOTHING`),
			cluster, run.Int64, at.Int64); err != nil {
			return ar, false, fmt.Errorf("placing the alert cursor: %w", err)
		}
		err = s.db.QueryRowContext(ctx, s.q(`SELECT run, finalized_at FROM alert_cursor WHERE cluster = ?`), cluster).Scan(&since, &sinceAt)
	}
	if err != nil {
		return ar, false, fmt.Errorf("reading the alert cursor: %w", err)
	}
	var run, at int64
	err = s.db.QueryRowContext(ctx, s.q(`SELECT run, state, COALESCE(finalized_at, 0) FROM runs WHERE cluster = ? AND run > ? AND state IN (?, ?) ORDER BY run LIMIT 1`),
		cluster, since, RunFinalized, RunHeld).Scan(&run, &ar.State, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return ar, false, nil
	}
	if err != nil {
		return ar, false, fmt.Errorf("reading the next complete run: %w", err)
	}
	ar.Run, ar.FinalizedAt = fromMS(run), fromMS(at)
	if since > 0 {
		ar.Since = fromMS(since)
	}
	if sinceAt > 0 {
		ar.SinceFinalizedAt = fromMS(sinceAt)
	}
	return ar, true, nil
}

const changeColumns = `e.kind, e.reason, e.at, v.id, v.vkey, v.cluster, v.c_group, v.c_kind, v.c_name, v.r_group, v.r_version, v.r_kind,
v.r_namespace, v.r_name, v.message, v.enforcement_action, v.state, v.first_seen, v.last_seen, v.resolved_at, v.reason, v.run_count`

func (s *sqlStore) ForEachChange(ctx context.Context, ar AlertRun, fn func(Change) error) error {
	since, run := ms(ar.Since), ms(ar.Run)
	if ar.Since.IsZero() {
		since = 0
	}
	sinceAt := int64(0)
	if !ar.SinceFinalizedAt.IsZero() {
		sinceAt = ms(ar.SinceFinalizedAt)
	}
	// The run's own changes are named by run; resolutions of deleted
	// constraints by when they happened (they carry the newest run at the
	// time, which may be pending still), bounded below by run for the
	// index.
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+changeColumns+` FROM events e JOIN violations v ON v.id = e.violation_id
WHERE v.cluster = ? AND e.run > ? AND e.run <= ? AND e.reason <> ?
UNION ALL
SELECT `+changeColumns+` FROM events e JOIN violations v ON v.id = e.violation_id
WHERE v.cluster = ? AND e.run >= ? AND e.reason = ? AND e.at > ? AND e.at <= ?
ORDER BY 1, 4`),
		ar.Cluster, since, run, ReasonConstraintDeleted,
		ar.Cluster, since, ReasonConstraintDeleted, sinceAt, ms(ar.FinalizedAt))
	if err != nil {
		return fmt.Errorf("reading the changes of run %s: %w", ar.Run.Format(time.RFC3339), err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Change
		var at, first, last int64
		var resolved sql.NullInt64
		v := &c.Violation
		if err := rows.Scan(&c.Kind, &c.Reason, &at, &v.ID, &v.Key, &v.Cluster, &v.Constraint.Group, &v.Constraint.Kind, &v.Constraint.Name,
			&v.Resource.Group, &v.Resource.Version, &v.Resource.Kind, &v.Resource.Namespace, &v.Resource.Name, &v.Message,
			&v.EnforcementAction, &v.State, &first, &last, &resolved, &v.Reason, &v.RunCount); err != nil {
			return fmt.Errorf("reading a change: %w", err)
		}
		c.At, v.FirstSeen, v.LastSeen, v.ResolvedAt = fromMS(at), fromMS(first), fromMS(last), fromNullMS(resolved)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqlStore) EnqueueAlerts(ctx context.Context, ar AlertRun, alerts []OutboxAlert) error {
	now := ms(time.Now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		since := int64(0)
		if !ar.Since.IsZero() {
			since = ms(ar.Since)
		}
		r, err := tx.ExecContext(ctx, s.q(`UPDATE alert_cursor SET run = ?, finalized_at = ? WHERE cluster = ? AND run = ?`),
			ms(ar.Run), ms(ar.FinalizedAt), ar.Cluster, since)
		if err != nil {
			return fmt.Errorf("moving the alert cursor: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil // another replica enqueued this run
		}
		for _, a := range alerts {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO alert_outbox (route, cluster, run, idem_key, body, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (idem_key) DO NOTHING`), a.Route, ar.Cluster, ms(ar.Run), a.Key, string(a.Body), now, 0); err != nil {
				return fmt.Errorf("adding the alert of route %q: %w", a.Route, err)
			}
		}
		return nil
	})
}

func (s *sqlStore) ClaimAlert(ctx context.Context, route string, now time.Time, lease time.Duration) (OutboxAlert, bool, error) {
	a := OutboxAlert{Route: route}
	var run int64
	var body string
	err := s.db.QueryRowContext(ctx, s.q(`UPDATE alert_outbox SET claimed_until = ?, attempts = attempts + 1
WHERE id = (SELECT id FROM alert_outbox WHERE route = ? AND sent_at IS NULL ORDER BY id LIMIT 1)
  AND next_at <= ? AND claimed_until <= ?
RETURNING id, cluster, run, idem_key, body, attempts`), ms(now.Add(lease)), route, ms(now), ms(now)).
		Scan(&a.ID, &a.Cluster, &run, &a.Key, &body, &a.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("claiming an alert of route %q: %w", route, err)
	}
	a.Run, a.Body = fromMS(run), []byte(body)
	return a, true, nil
}

func (s *sqlStore) AlertSent(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE alert_outbox SET sent_at = ?, claimed_until = 0, last_error = '' WHERE id = ?`), ms(at), id); err != nil {
		return fmt.Errorf("marking alert %d sent: %w", id, err)
	}
	return nil
}

func (s *sqlStore) AlertFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE alert_outbox SET next_at = ?, claimed_until = 0, last_error = ? WHERE id = ?`), ms(next), reason, id); err != nil {
		return fmt.Errorf("releasing alert %d: %w", id, err)
	}
	return nil
}

func (s *sqlStore) PendingAlerts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT route, count(*) FROM alert_outbox WHERE sent_at IS NULL GROUP BY route`))
	if err != nil {
		return nil, fmt.Errorf("counting pending alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var route string
		var n int
		if err := rows.Scan(&route, &n); err != nil {
			return nil, err
		}
		out[route] = n
	}
	return out, rows.Err()
}
