// Package reconcile judges audit runs: a run is complete when Gatekeeper
// says it ended and everything it published has arrived, and only complete
// runs change which violations are open. Gatekeeper v3.20+ marks a run's
// start and end on the channel; v3.13-v3.19 do not, and there the
// constraints' status (auditTimestamp, totalViolations) is the only word on
// a run's end. Where the API server can be read, the status is checked in
// both cases: every constraint audited in the run, and as many violations
// received per constraint as its status counts.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// ConstraintStatus is what one constraint's status says of the last audit.
type ConstraintStatus struct {
	store.Constraint
	// AuditTimestamp is status.auditTimestamp (zero if not audited yet).
	AuditTimestamp time.Time
	// TotalViolations is status.totalViolations (-1 if absent).
	TotalViolations int
}

// StatusSource lists every constraint with its status. It fails rather
// than return a partial list.
type StatusSource interface {
	Constraints(ctx context.Context) ([]ConstraintStatus, error)
}

// Options configure the reconciler.
type Options struct {
	Cluster string
	Store   store.Store
	// Status is nil when no API server can be read: then v3.20+ markers
	// and the grace alone decide, and runs without markers never
	// complete.
	Status StatusSource
	// Grace is waited after a run's end for late deliveries.
	Grace time.Duration
	// ResolveAfter and MaxResolveShare: see store.FinalizeOptions.
	ResolveAfter    int
	MaxResolveShare float64
	// Retention prunes resolved violations and runs older than this
	// (0 keeps them).
	Retention time.Duration
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Reconciler judges the runs of one cluster.
type Reconciler struct {
	opts         Options
	lastObserved time.Time
	warned       map[string]bool
	said         map[string]bool
	lastPrune    time.Time
}

// New makes a reconciler.
func New(opts Options) (*Reconciler, error) {
	if opts.Store == nil {
		return nil, errors.New("reconcile: no store")
	}
	if opts.ResolveAfter < 1 {
		return nil, fmt.Errorf("reconcile: resolve-after is %d, want 1 or more", opts.ResolveAfter)
	}
	if opts.MaxResolveShare <= 0 || opts.MaxResolveShare > 1 {
		return nil, fmt.Errorf("reconcile: max-resolve-share is %v, want more than 0 and at most 1", opts.MaxResolveShare)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(nil, nil)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reconciler{opts: opts, warned: map[string]bool{}, said: map[string]bool{}}, nil
}

// Run reconciles every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.Error("reconciling runs", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once looks at the pending runs and finalises those that are complete; it
// returns the runs it judged.
func (r *Reconciler) Once(ctx context.Context) ([]store.Run, error) {
	o := r.opts
	now := o.Now()
	var statuses []ConstraintStatus
	if o.Status != nil {
		var err error
		if statuses, err = o.Status.Constraints(ctx); err != nil {
			// Without the status nothing can be judged complete.
			return nil, fmt.Errorf("reading the constraints' status: %w", err)
		}
		if err := r.observe(ctx, statuses, now); err != nil {
			return nil, err
		}
	}
	pending, err := o.Store.PendingRuns(ctx, o.Cluster)
	if err != nil {
		return nil, err
	}
	var judged []store.Run
	for _, run := range pending {
		ok, why := r.complete(run, now)
		if !ok {
			// Said once per run and reason (the grace's countdown aside),
			// so a run that never completes says why.
			if key := run.ID.String() + "/" + strings.SplitN(why, ":", 2)[0]; !r.said[key] {
				r.said[key] = true
				o.Logger.Info("run not complete yet", "run", run.ID, "why", why)
			}
			continue
		}
		res, err := o.Store.Finalize(ctx, o.Cluster, run.ID, store.FinalizeOptions{ResolveAfter: o.ResolveAfter, MaxResolveShare: o.MaxResolveShare, Now: now})
		if err != nil {
			return judged, fmt.Errorf("finalising run %s: %w", run.ID.Format(time.RFC3339), err)
		}
		judged = append(judged, res)
		o.Metrics.Runs.WithLabelValues(o.Cluster, res.State).Inc()
		if res.Resolved > 0 {
			o.Metrics.Resolved.WithLabelValues(o.Cluster, store.ReasonAbsent).Add(float64(res.Resolved))
		}
		if res.State == store.RunHeld {
			o.Metrics.RunsHeld.WithLabelValues(o.Cluster).Inc()
			o.Logger.Warn("run held", "run", res.ID, "reason", res.Reason)
		} else if res.State == store.RunFinalized {
			o.Logger.Info("run complete", "run", res.ID, "received", res.Received, "new", res.New, "stillOpen", res.StillOpen, "resolved", res.Resolved)
		}
	}
	if len(r.said) > 10000 {
		clear(r.said)
	}
	if o.Retention > 0 && now.Sub(r.lastPrune) > time.Hour {
		r.lastPrune = now
		if n, err := o.Store.Prune(ctx, now.Add(-o.Retention)); err != nil {
			o.Logger.Error("pruning resolved history", "error", err)
		} else if n > 0 {
			o.Logger.Info("pruned resolved history", "violations", n, "before", now.Add(-o.Retention))
		}
	}
	return judged, nil
}

// observe records the run the status describes (a v3.17 run with no
// violations publishes nothing, so the status is all there is of it) and
// resolves the violations of constraints that no longer exist.
func (r *Reconciler) observe(ctx context.Context, statuses []ConstraintStatus, now time.Time) error {
	o := r.opts
	if latest, ok := commonAudit(statuses); ok && !latest.Equal(r.lastObserved) {
		totals := map[store.Constraint]int{}
		for _, s := range statuses {
			totals[s.Constraint] = s.TotalViolations
		}
		if err := o.Store.ObserveStatus(ctx, o.Cluster, store.StatusObservation{Run: latest, Constraints: totals}, now); err != nil {
			return err
		}
		r.lastObserved = latest
	}
	live := map[store.Constraint]bool{}
	for _, s := range statuses {
		live[s.Constraint] = true
	}
	open, err := o.Store.OpenConstraints(ctx, o.Cluster)
	if err != nil {
		return err
	}
	for _, c := range open {
		if live[c] {
			continue
		}
		n, err := o.Store.ResolveConstraint(ctx, o.Cluster, c, now)
		if err != nil {
			return err
		}
		o.Metrics.Resolved.WithLabelValues(o.Cluster, store.ReasonConstraintDeleted).Add(float64(n))
		o.Logger.Info("constraint deleted: its violations are resolved", "kind", c.Kind, "name", c.Name, "violations", n)
	}
	return nil
}

// commonAudit returns the audit time every constraint's status shows, if
// they all show the same.
func commonAudit(statuses []ConstraintStatus) (time.Time, bool) {
	if len(statuses) == 0 {
		return time.Time{}, false
	}
	t := statuses[0].AuditTimestamp
	for _, s := range statuses {
		if s.AuditTimestamp.IsZero() || !s.AuditTimestamp.Equal(t) || s.TotalViolations < 0 {
			return time.Time{}, false
		}
	}
	return t, true
}

// complete says whether run is complete now, or why not. With the API
// server, the run's own status observation is what counts (recorded by
// observe when every constraint showed this run): the live status moves on
// to the next run, often before the last deliveries of this one arrive.
func (r *Reconciler) complete(run store.Run, now time.Time) (bool, string) {
	o := r.opts
	markers := run.Started || run.CompletedAt != nil
	if markers {
		if run.CompletedAt == nil {
			return false, "no completed marker yet"
		}
		if !run.Started {
			// v3.20+ sends the started marker before a run's violations. A
			// Redis stream trimmed by maxLenApprox while the consumer was
			// behind drops its oldest entries first: the start goes, then
			// the run's first violations, and the end survives.
			return false, "no started marker: the run's first messages never arrived (a trimmed stream, e.g. Redis maxLenApprox, drops the oldest entries first)"
		}
		if wait := o.Grace - now.Sub(*run.CompletedAt); wait > 0 {
			return false, fmt.Sprintf("grace: %s left", wait.Round(time.Millisecond))
		}
	}
	if o.Status == nil {
		if !markers {
			if !r.warned["no-markers"] {
				r.warned["no-markers"] = true
				o.Logger.Warn("runs without start and end markers (Gatekeeper before v3.20) cannot complete without reading the constraints' status: give the consumer a kubeconfig or run it in the cluster with its RBAC", "run", run.ID)
			}
			return false, "no markers and no API server to read the constraints' status"
		}
		return true, ""
	}
	if run.StatusAt == nil {
		return false, "status: the constraints' status has not shown this run (every constraint's auditTimestamp equal to it)"
	}
	for _, c := range run.Constraints {
		if c.Expected < 0 {
			return false, fmt.Sprintf("status: %s %s has violations in this run but was not in its status", c.Kind, c.Name)
		}
		if c.Received != c.Expected {
			return false, fmt.Sprintf("status: %s %s: %d violations received, status.totalViolations is %d", c.Kind, c.Name, c.Received, c.Expected)
		}
	}
	if !markers {
		if wait := o.Grace - now.Sub(*run.StatusAt); wait > 0 {
			return false, fmt.Sprintf("grace: %s left after the status", wait.Round(time.Millisecond))
		}
	}
	return true, ""
}
