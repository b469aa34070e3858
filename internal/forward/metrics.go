package forward

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the forwarder's Prometheus metrics (the publisher's own,
// gatekeeper_pubsub_publisher_*, sit beside them: retries among them).
type Metrics struct {
	reg       prometheus.Registerer
	linesSent prometheus.Counter
	linesLost *prometheus.CounterVec
	runs      prometheus.Counter
	runsLost  prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, counted only).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	const ns = "pubsub_forward"
	m := &Metrics{
		reg:       reg,
		linesSent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "lines_sent_total", Help: "Lines of the disk driver's files the broker accepted (a line sent again after a restart counts again)."}),
		linesLost: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "lines_lost_total", Help: "Lines never sent, by reason (too_large, unterminated)."}, []string{"reason"}),
		runs:      prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "runs_forwarded_total", Help: "Audit runs sent to their end."}),
		runsLost:  prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "runs_lost_total", Help: "Audit runs whose file the disk driver deleted before they were sent entirely."}),
	}
	if reg != nil {
		reg.MustRegister(m.linesSent, m.linesLost, m.runs, m.runsLost)
	}
	return m
}

// watch registers the gauges that read the forwarder's state.
func (m *Metrics) watch(f *Forwarder) {
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "pubsub_forward", Name: "lag_lines", Help: "Lines written by the audit and not sent yet."}, f.lagLines),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "pubsub_forward", Name: "lag_seconds", Help: "How long the forwarder has had lines to send (0 when caught up)."}, f.lagSeconds),
	)
}
