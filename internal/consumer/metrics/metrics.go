// Package metrics holds the violations consumer's Prometheus metrics: what
// it received and how it answered, what its runs changed, and the open
// violations read from the store at each scrape (uncapped, unlike a
// constraint's status).
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Drop and ignore reasons.
const (
	ReasonNotJSON          = "not-json"
	ReasonInvalid          = "invalid"
	ReasonTooLarge         = "too-large"
	ReasonUnknownEventType = "unknown-event-type"
	ReasonOldRun           = "old-run"
	ReasonDuplicate        = "duplicate"
)

// Metrics of one consumer process.
type Metrics struct {
	Registry *prometheus.Registry
	// Received counts messages by outcome: acked, retried, dropped.
	Received *prometheus.CounterVec
	// Deliveries counts daprd's requests by mode: single (one message) or
	// bulk (Dapr's bulk subscribe).
	Deliveries *prometheus.CounterVec
	// Dropped counts dropped messages by reason.
	Dropped *prometheus.CounterVec
	// Ignored counts acked messages that changed nothing, by reason.
	Ignored *prometheus.CounterVec
	// New, Resolved and Reopened count state changes this process made.
	New, Resolved, Reopened *prometheus.CounterVec
	// Runs counts runs this process judged, by cluster and result.
	Runs *prometheus.CounterVec
	// RunsHeld counts runs held for resolving too much.
	RunsHeld *prometheus.CounterVec
	// Batch observes the size of the batches committed together.
	Batch prometheus.Histogram
	// AlertsSent counts alerts their receiver accepted, by route;
	// AlertsFailed the attempts that failed, by route and reason.
	AlertsSent, AlertsFailed *prometheus.CounterVec
}

// New makes the metrics and a registry holding them, the Go and process
// collectors, and the store's gauges read at each scrape (nil st leaves
// those out).
func New(st store.Store, logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_messages_total",
			Help: "Messages received from the audit channel, by how they were answered (acked, retried, dropped)."}, []string{"outcome"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_deliveries_total",
			Help: "Requests daprd delivered messages in, by mode: single (one message) or bulk (several, Dapr's bulk subscribe)."}, []string{"mode"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_messages_dropped_total",
			Help: "Messages dropped (to the dead-letter topic when one is set), by reason."}, []string{"reason"}),
		Ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_messages_ignored_total",
			Help: "Messages acked that changed nothing, by reason (unknown-event-type, old-run, duplicate)."}, []string{"reason"}),
		New: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatekeeper_violations_new_total",
			Help: "Violations seen for the first time."}, []string{"cluster"}),
		Resolved: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatekeeper_violations_resolved_total",
			Help: "Violations resolved, by reason (absent, constraint-deleted)."}, []string{"cluster", "reason"}),
		Reopened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatekeeper_violations_reopened_total",
			Help: "Resolved violations seen again in a newer run."}, []string{"cluster"}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_runs_total",
			Help: "Audit runs judged by this process, by result (finalized, held, incomplete)."}, []string{"cluster", "result"}),
		RunsHeld: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_runs_held_total",
			Help: "Complete runs held because they would resolve more than --max-resolve-share of the open violations."}, []string{"cluster"}),
		Batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "violations_commit_batch_size",
			Help: "Messages committed in one store transaction.", Buckets: prometheus.ExponentialBuckets(1, 4, 7)}),
		AlertsSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_alerts_sent_total",
			Help: "Alerts accepted by their receiver, by route."}, []string{"route"}),
		AlertsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "violations_alert_attempts_failed_total",
			Help: "Attempts to send an alert that failed (it is tried again), by route and reason (status code, timeout, error)."}, []string{"route", "reason"}),
	}
	m.Registry.MustRegister(m.Received, m.Deliveries, m.Dropped, m.Ignored, m.New, m.Resolved, m.Reopened, m.Runs, m.RunsHeld, m.Batch, m.AlertsSent, m.AlertsFailed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.Registry.MustRegister(&storeCollector{st: st, logger: logger})
	}
	return m
}

var (
	openDesc = prometheus.NewDesc("gatekeeper_violations_open",
		"Open violations, by cluster, constraint kind and name, namespace and enforcement action.",
		[]string{"cluster", "constraint_kind", "constraint_name", "namespace", "enforcement_action"}, nil)
	lastCompleteDesc = prometheus.NewDesc("violations_last_complete_run_timestamp_seconds",
		"Start time of the newest complete audit run, by cluster.", []string{"cluster"}, nil)
	storeUpDesc = prometheus.NewDesc("violations_store_up", "1 when the store answered this scrape.", nil, nil)
	pendingDesc = prometheus.NewDesc("violations_alerts_pending",
		"Alerts in the outbox not accepted by their receiver yet, by route.", []string{"route"}, nil)
)

// storeCollector reads the gauges from the store at each scrape, so every
// replica reports the same numbers.
type storeCollector struct {
	st     store.Store
	logger *slog.Logger
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- lastCompleteDesc
	ch <- storeUpDesc
	ch <- pendingDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	counts, err := c.st.OpenCounts(ctx)
	if err != nil {
		c.logger.Error("metrics: reading open violations", "error", err)
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	for _, oc := range counts {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(oc.Count),
			oc.Cluster, oc.ConstraintKind, oc.ConstraintName, oc.Namespace, oc.EnforcementAction)
	}
	last, err := c.st.LastComplete(ctx)
	if err != nil {
		c.logger.Error("metrics: reading the last complete runs", "error", err)
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	for cluster, t := range last {
		ch <- prometheus.MustNewConstMetric(lastCompleteDesc, prometheus.GaugeValue, float64(t.Unix()), cluster)
	}
	pending, err := c.st.PendingAlerts(ctx)
	if err != nil {
		c.logger.Error("metrics: counting pending alerts", "error", err)
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	for route, n := range pending {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n), route)
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
}
