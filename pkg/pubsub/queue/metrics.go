package queue

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the publisher's Prometheus metrics.
type Metrics struct {
	published prometheus.Counter
	failed    *prometheus.CounterVec
	retried   prometheus.Counter
	dropped   *prometheus.CounterVec
	depth     prometheus.Gauge
	bytes     prometheus.Gauge
	batch     prometheus.Histogram
	latency   prometheus.Histogram
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, counted only).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	const ns, sub = "gatekeeper_pubsub", "publisher"
	m := &Metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "published_total", Help: "Messages the broker accepted."}),
		failed:    prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failed_total", Help: "Messages that failed for good, by reason."}, []string{"reason"}),
		retried:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "retried_total", Help: "Message sends retried after a transient failure."}),
		dropped:   prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dropped_total", Help: "Messages never sent, by reason (queue_full, enqueue_timeout, closed)."}, []string{"reason"}),
		depth:     prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_depth", Help: "Messages queued or in flight."}),
		bytes:     prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_bytes", Help: "Payload bytes queued or in flight."}),
		batch:     prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_size", Help: "Messages per send.", Buckets: []float64{1, 5, 10, 25, 50, 100, 200, 500, 1000}}),
		latency:   prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "publish_latency_seconds", Help: "Duration of one send (a batch).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	if reg != nil {
		reg.MustRegister(m.published, m.failed, m.retried, m.dropped, m.depth, m.bytes, m.batch, m.latency)
	}
	return m
}
