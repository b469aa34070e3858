package reports

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Writer writes the reports after each complete run.
type Writer struct {
	Store   store.Store
	Client  dynamic.Interface
	Options Options
	Logger  *slog.Logger
	// Resync also syncs this long after the last sync without a newer run
	// (default 30s): violations are resolved outside runs too (a deleted
	// constraint), and a report changed or deleted by hand is put back.
	// An unchanged report is not written.
	Resync time.Duration
	// synced is the newest complete run the reports show, syncedAt when.
	synced   time.Time
	syncedAt time.Time
}

// Run looks every interval for a newer complete run and syncs the
// reports when there is one (or Resync passed); a failed sync is tried
// again at the next tick.
func (w *Writer) Run(ctx context.Context, interval time.Duration) {
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := w.Once(ctx); err != nil && ctx.Err() == nil {
			log.Error("writing OpenReports; trying again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once syncs the reports if a complete run is newer than the last synced.
func (w *Writer) Once(ctx context.Context) error {
	last, err := w.Store.LastComplete(ctx)
	if err != nil {
		return err
	}
	run, ok := last[w.Options.Cluster]
	resync := w.Resync
	if resync <= 0 {
		resync = 30 * time.Second
	}
	if !ok || (!run.After(w.synced) && time.Since(w.syncedAt) < resync) {
		return nil
	}
	var open []store.Violation
	f := store.Filter{Cluster: w.Options.Cluster, State: store.StateOpen, Limit: 1000}
	for {
		page, err := w.Store.Violations(ctx, f)
		if err != nil {
			return fmt.Errorf("reading open violations: %w", err)
		}
		open = append(open, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	res, err := Sync(ctx, w.Client, Build(open, w.Options), w.Options)
	if err != nil {
		return err
	}
	w.synced, w.syncedAt = run, time.Now()
	if w.Logger != nil && res.Created+res.Updated+res.Deleted > 0 {
		w.Logger.Info("OpenReports written", "run", run.Format(time.RFC3339), "open", len(open), "reports", res.String())
	}
	return nil
}
