package agent

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// metrics are the agent's own counters, on a registry of its own (never
// the global default, so tests and embedders get clean state).
type metrics struct {
	lines       *prometheus.CounterVec
	parseErrors *prometheus.CounterVec
	incidents   *prometheus.CounterVec
	findings    *prometheus.CounterVec
	inputs      *prometheus.CounterVec
	// positionsLag is, per tailed file, the bytes written but not yet
	// read and committed (file size minus the saved position).
	positionsLag *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_lines_read_total", Help: "Log lines read, per source file.",
		}, []string{"type", "path"}),
		parseErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_parse_errors_total", Help: "Lines that did not parse in their file's format.",
		}, []string{"type", "path"}),
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_incidents_total", Help: "Incidents closed, by cause.",
		}, []string{"cause"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_findings_total", Help: "Findings emitted, by kind, state and cause.",
		}, []string{"kind", "state", "cause"}),
		inputs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "origin_agent_source_inputs_total", Help: "Inputs from non-file sources (kernel, cgroups).",
		}, []string{"source"}),
		positionsLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "origin_agent_positions_lag_bytes", Help: "Bytes of a tailed file not yet read and committed (size minus saved position).",
		}, []string{"type", "path"}),
	}
	reg.MustRegister(m.lines, m.parseErrors, m.incidents, m.findings, m.inputs, m.positionsLag,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// trackLag updates positionsLag every `every` until ctx ends.
func (m *metrics) trackLag(ctx context.Context, every time.Duration, store *positions.Store, watches []Watch) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.updateLag(store, watches)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// updateLag sets each file's lag: its size minus the position saved for
// its current generation (same device and inode). A file not there yet,
// or with nothing committed yet, keeps its last value.
func (m *metrics) updateLag(store *positions.Store, watches []Watch) {
	for _, w := range watches {
		fi, err := os.Stat(w.Path)
		if err != nil {
			continue
		}
		dev, ino, ok := positions.DevIno(fi)
		if !ok {
			continue
		}
		off := int64(-1)
		for _, e := range store.Find(w.Path) {
			if e.Dev == dev && e.Ino == ino && e.Offset > off {
				off = e.Offset
			}
		}
		if off < 0 {
			continue
		}
		m.positionsLag.WithLabelValues(string(w.Type), w.Path).Set(float64(max(fi.Size()-off, 0)))
	}
}
