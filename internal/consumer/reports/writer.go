package reports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Writer writes the reports after each complete run.
type Writer struct {
	Store  store.Store
	Client dynamic.Interface
	// Metadata reads the constraints' labels and annotations
	// (Options.SeverityKey) and the resources' UIDs (Options.ResourceUIDs):
	// metadata only, never a Secret's data. Needed by those two options.
	Metadata metadata.Interface
	// Mapper maps the constraints' and resources' kinds to resources.
	// Needed by the same two options.
	Mapper  Mapper
	Options Options
	Logger  *slog.Logger
	// Resync also syncs this long after the last sync without a newer run
	// (default 30s): violations are resolved outside runs too (a deleted
	// constraint), a constraint's severity changes, and a report changed
	// or deleted by hand is put back. An unchanged report is not written.
	Resync time.Duration
	// synced is the newest complete run the reports show, syncedAt when.
	synced   time.Time
	syncedAt time.Time
	// warned holds the invalid severities already logged.
	warned map[invalidSeverity]bool
	// syncs counts the syncs done.
	syncs atomic.Int64
}

// Outcome is what one sync did.
type Outcome struct {
	// Synced is false when nothing was due (no newer run, Resync not
	// passed); the rest is then zero.
	Synced bool
	// Run is the complete run the reports show.
	Run time.Time
	// Open is the number of open violations written.
	Open int
	Sync SyncResult
	// UIDs counts the UID look-ups (Options.ResourceUIDs).
	UIDs UIDStats
}

// Syncs is the number of syncs this writer did (each read the store and
// compared the reports; an unchanged report is not written).
func (w *Writer) Syncs() int64 { return w.syncs.Load() }

func (w *Writer) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// Run looks every interval for a newer complete run and syncs the
// reports when there is one (or Resync passed); a failed sync is tried
// again at the next tick. It syncs at once when it starts.
func (w *Writer) Run(ctx context.Context, interval time.Duration) {
	log := w.logger()
	w.synced, w.syncedAt = time.Time{}, time.Time{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.Once(ctx); err != nil && ctx.Err() == nil {
			log.Error("writing OpenReports; trying again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once syncs the reports if a complete run is newer than the last synced,
// or Resync passed.
func (w *Writer) Once(ctx context.Context) (Outcome, error) {
	if (w.Options.SeverityKey != "" || w.Options.ResourceUIDs) && (w.Metadata == nil || w.Mapper == nil) {
		return Outcome{}, errors.New("reports: reading severities (--report-severity-key) or UIDs (--report-resource-uids) needs the Writer's Metadata client and Mapper")
	}
	last, err := w.Store.LastComplete(ctx)
	if err != nil {
		return Outcome{}, err
	}
	run, ok := last[w.Options.Cluster]
	resync := w.Resync
	if resync <= 0 {
		resync = 30 * time.Second
	}
	if !ok || (!run.After(w.synced) && time.Since(w.syncedAt) < resync) {
		return Outcome{}, nil
	}
	var open []store.Violation
	f := store.Filter{Cluster: w.Options.Cluster, State: store.StateOpen, Limit: 1000}
	for {
		page, err := w.Store.Violations(ctx, f)
		if err != nil {
			return Outcome{}, fmt.Errorf("reading open violations: %w", err)
		}
		open = append(open, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	out := Outcome{Synced: true, Run: run, Open: len(open)}
	facts, err := w.facts(ctx, open, &out)
	if err != nil {
		return Outcome{}, err
	}
	res, err := Sync(ctx, w.Client, Build(open, w.Options, facts), w.Options)
	out.Sync = res
	if err != nil {
		return out, err
	}
	w.synced, w.syncedAt = run, time.Now()
	w.syncs.Add(1)
	if res.Created+res.Updated+res.Deleted > 0 {
		attrs := []any{"run", run.Format(time.RFC3339), "open", len(open), "reports", res.String()}
		if w.Options.ResourceUIDs {
			attrs = append(attrs, "uids", out.UIDs.String())
		}
		w.logger().Info("OpenReports written", attrs...)
	}
	return out, nil
}

// facts reads what the options ask of the API server for this sync.
func (w *Writer) facts(ctx context.Context, open []store.Violation, out *Outcome) (Facts, error) {
	var facts Facts
	if w.Options.SeverityKey == "" && !w.Options.ResourceUIDs {
		return facts, nil
	}
	log := w.logger()
	l := newLookup(w.Metadata, w.Mapper, log)
	if key := w.Options.SeverityKey; key != "" {
		sev, invalid, err := l.severities(ctx, open, key)
		if err != nil {
			return facts, err
		}
		facts.Severity = sev
		// Each invalid value is logged once while it stays; one fixed and
		// set again is logged again.
		seen := map[invalidSeverity]bool{}
		for _, iv := range invalid {
			seen[iv] = true
			if w.warned[iv] {
				continue
			}
			log.Warn("constraint severity is not critical, high, medium, low or info; using --report-severity",
				"constraint", iv.Constraint.Kind+"/"+iv.Constraint.Name, iv.From, key, "value", iv.Value, "default", w.Options.withDefaults().Severity)
		}
		w.warned = seen
	}
	if w.Options.ResourceUIDs {
		facts.UID, out.UIDs = l.uids(ctx, open)
	}
	return facts, nil
}
