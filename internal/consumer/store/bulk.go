package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// item is one received violation of a pending run.
type item struct {
	run int64
	key string
	v   violation.Violation
}

// chunk bounds the rows of one multi-row statement (16 parameters a row
// stays far below SQLite's and PostgreSQL's parameter limits).
const chunk = 200

// rows returns "(?, ?), (?, ?)" for n rows of cols columns.
func rows(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// recordViolations stores the violations of a batch with a few multi-row
// statements per chunk instead of several statements per violation, and
// returns those not recorded for their run before (the rest are
// duplicates).
func (s *sqlStore) recordViolations(ctx context.Context, tx *sql.Tx, cluster string, items []item, res *RecordResult) ([]item, error) {
	type runKey struct {
		run int64
		key string
	}
	seen := map[runKey]bool{}
	uniq := items[:0:0]
	for _, it := range items {
		rk := runKey{it.run, it.key}
		if seen[rk] {
			res.Duplicates++
			continue
		}
		seen[rk] = true
		uniq = append(uniq, it)
	}
	var added []item
	for start := 0; start < len(uniq); start += chunk {
		a, err := s.recordChunk(ctx, tx, cluster, uniq[start:min(start+chunk, len(uniq))], res)
		if err != nil {
			return nil, err
		}
		added = append(added, a...)
	}
	return added, nil
}

type stored struct {
	id          int64
	state       string
	resolvedRun sql.NullInt64
	firstSeen   int64
	action      string
	inserted    bool
}

func (s *sqlStore) recordChunk(ctx context.Context, tx *sql.Tx, cluster string, items []item, res *RecordResult) ([]item, error) {
	// 1. New violations, each key once (at its earliest run in the chunk).
	first := map[string]item{}
	var order []string
	for _, it := range items {
		if f, ok := first[it.key]; !ok || it.run < f.run {
			if !ok {
				order = append(order, it.key)
			}
			first[it.key] = it
		}
	}
	args := make([]any, 0, len(order)*16)
	for _, k := range order {
		it := first[k]
		v := it.v
		labels := "{}"
		if len(v.ResourceLabels) > 0 {
			b, err := json.Marshal(v.ResourceLabels)
			if err != nil {
				return nil, fmt.Errorf("encoding labels: %w", err)
			}
			labels = string(b)
		}
		args = append(args, cluster, k, v.Group, v.Kind, v.Name, v.ResourceGroup, v.ResourceAPIVersion, v.ResourceKind, v.ResourceNamespace, v.ResourceName,
			v.Message, v.EnforcementAction, labels, StateOpen, it.run, it.run)
	}
	byKey := map[string]*stored{}
	if err := s.scan(ctx, tx, `INSERT INTO violations (cluster, vkey, c_group, c_kind, c_name, r_group, r_version, r_kind, r_namespace, r_name,
message, enforcement_action, labels, state, first_seen, last_seen) VALUES `+rows(len(order), 16)+` ON CONFLICT (vkey) DO NOTHING RETURNING id, vkey`, args,
		func(r *sql.Rows) error {
			var (
				id  int64
				key string
			)
			if err := r.Scan(&id, &key); err != nil {
				return err
			}
			byKey[key] = &stored{id: id, state: StateOpen, firstSeen: first[key].run, action: first[key].v.EnforcementAction, inserted: true}
			return nil
		}); err != nil {
		return nil, fmt.Errorf("recording violations: %w", err)
	}
	// 2. The others as stored.
	var existing []any
	for _, k := range order {
		if byKey[k] == nil {
			existing = append(existing, k)
		}
	}
	if len(existing) > 0 {
		if err := s.scan(ctx, tx, `SELECT id, vkey, state, resolved_run, first_seen, enforcement_action FROM violations WHERE vkey IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(existing)), ", ")+`)`, existing, func(r *sql.Rows) error {
			st := &stored{}
			var key string
			if err := r.Scan(&st.id, &key, &st.state, &st.resolvedRun, &st.firstSeen, &st.action); err != nil {
				return err
			}
			byKey[key] = st
			return nil
		}); err != nil {
			return nil, fmt.Errorf("reading violations: %w", err)
		}
	}
	// 3. Sightings: the ones not there before are what this batch adds.
	args = args[:0]
	for _, it := range items {
		st := byKey[it.key]
		if st == nil {
			return nil, fmt.Errorf("violation %s neither inserted nor found", it.key)
		}
		args = append(args, cluster, it.run, st.id)
	}
	type sighting struct{ run, id int64 }
	fresh := map[sighting]bool{}
	if err := s.scan(ctx, tx, `INSERT INTO sightings (cluster, run, violation_id) VALUES `+rows(len(items), 3)+
		` ON CONFLICT (cluster, run, violation_id) DO NOTHING RETURNING run, violation_id`, args, func(r *sql.Rows) error {
		var sg sighting
		if err := r.Scan(&sg.run, &sg.id); err != nil {
			return err
		}
		fresh[sg] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("recording sightings: %w", err)
	}
	// 4. Events and the rare per-violation updates.
	var added []item
	var events []any
	opened := map[string]bool{}
	for _, it := range items {
		st := byKey[it.key]
		if !fresh[sighting{it.run, st.id}] {
			res.Duplicates++
			continue
		}
		added = append(added, it)
		switch {
		case st.inserted:
			if !opened[it.key] {
				opened[it.key] = true
				res.Opened++
				events = append(events, st.id, st.firstSeen, st.firstSeen, EventOpened, "")
			}
		case st.state == StateResolved && (!st.resolvedRun.Valid || st.resolvedRun.Int64 < it.run):
			if _, err := s.exec(ctx, tx, s.q(`UPDATE violations SET state = ?, resolved_at = NULL, resolved_run = NULL, reason = '', miss_count = 0, first_missed = NULL WHERE id = ?`),
				StateOpen, st.id); err != nil {
				return nil, fmt.Errorf("reopening violation: %w", err)
			}
			st.state = StateOpen
			res.Reopened++
			events = append(events, st.id, it.run, it.run, EventReopened, "")
		}
		if !st.inserted && (st.action != it.v.EnforcementAction || st.firstSeen > it.run) {
			if _, err := s.exec(ctx, tx, s.q(`UPDATE violations SET enforcement_action = ?, first_seen = CASE WHEN first_seen > ? THEN ? ELSE first_seen END WHERE id = ?`),
				it.v.EnforcementAction, it.run, it.run, st.id); err != nil {
				return nil, fmt.Errorf("updating violation: %w", err)
			}
			st.action = it.v.EnforcementAction
			st.firstSeen = min(st.firstSeen, it.run)
		}
	}
	if len(events) > 0 {
		if _, err := s.exec(ctx, tx, s.q(`INSERT INTO events (violation_id, at, run, kind, reason) VALUES `+rows(len(events)/5, 5)), events...); err != nil {
			return nil, fmt.Errorf("recording events: %w", err)
		}
	}
	return added, nil
}

// scan runs a query in tx and calls each for every row.
func (s *sqlStore) scan(ctx context.Context, tx *sql.Tx, query string, args []any, each func(*sql.Rows) error) error {
	r, err := s.query(ctx, tx, s.q(query), args...)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := each(r); err != nil {
			return err
		}
	}
	return r.Err()
}
