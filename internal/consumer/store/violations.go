package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// violationColumns are the columns of violations that scanViolation reads,
// in its order.
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
