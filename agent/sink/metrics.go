package sink

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the delivery counters of every sink, labelled by sink name.
// One Metrics serves all sinks of a registry.
type Metrics struct {
	Sent    *prometheus.CounterVec // findings confirmed by the destination
	Failed  *prometheus.CounterVec // findings in Send attempts that failed (each attempt counts)
	Retried *prometheus.CounterVec // Send attempts that were retries
	Queued  *prometheus.GaugeVec   // findings waiting in the spool
	Dropped *prometheus.CounterVec // findings given up: reason full|permanent|write
	// Rejected counts whole requests the destination refused (a 4xx that is
	// a configuration mistake); their findings stay spooled.
	Rejected *prometheus.CounterVec
	Latency  *prometheus.HistogramVec // seconds from spool Append to confirmation
}

func newMetricsUnregistered() *Metrics {
	return &Metrics{
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_sink_sent_total", Help: "Findings confirmed by the sink's destination.",
		}, []string{"sink"}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_sink_failed_total", Help: "Findings in send attempts that failed (retried later unless dropped).",
		}, []string{"sink"}),
		Retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_sink_retries_total", Help: "Send attempts that retried an earlier failure.",
		}, []string{"sink"}),
		Queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "origin_agent_sink_queued", Help: "Findings waiting in the sink's disk spool.",
		}, []string{"sink"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_sink_dropped_total", Help: "Findings given up: reason full (spool bound, oldest first), permanent (the destination rejected that finding) or write (a local sink could not write it).",
		}, []string{"sink", "reason"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_sink_rejected_requests_total", Help: "Whole requests the destination refused with a 4xx (wrong URL, tenant, credentials); their findings stay spooled until the config is fixed.",
		}, []string{"sink"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "origin_agent_sink_delivery_seconds",
			Help:    "Time from spool append to confirmation by the destination.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"sink"}),
	}
}

// NewMetrics makes the sink metrics and registers them on reg (never the
// global default registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetricsUnregistered()
	for _, c := range []prometheus.Collector{m.Sent, m.Failed, m.Retried, m.Queued, m.Dropped, m.Rejected, m.Latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	return m, nil
}

// DropHook returns the function a spool calls when its size bound made it
// drop its oldest entries: it counts them (reason "full") and logs to log
// (nil: discard).
func (m *Metrics) DropHook(sinkName string, log *slog.Logger) func(n int, bytes int64) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(n int, bytes int64) {
		m.Dropped.WithLabelValues(sinkName, "full").Add(float64(n))
		log.Warn("sink spool full: dropped oldest findings", "sink", sinkName, "dropped", n, "bytes", bytes)
	}
}

// DropReasons are the values of the reason label of Dropped.
var DropReasons = []string{"full", "permanent", "write"}

// Init creates every series of sink name at zero, so that a first drop or
// failure shows as an increase (increase() and rate() need a prior sample)
// and dashboards list every configured sink from the start.
func (m *Metrics) Init(name string) {
	m.Sent.WithLabelValues(name)
	m.Failed.WithLabelValues(name)
	m.Retried.WithLabelValues(name)
	m.Queued.WithLabelValues(name)
	m.Rejected.WithLabelValues(name)
	for _, r := range DropReasons {
		m.Dropped.WithLabelValues(name, r)
	}
}
