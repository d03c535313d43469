package agent

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the agent's own counters, on a registry of its own (never
// the global default, so tests and embedders get clean state).
type metrics struct {
	lines       *prometheus.CounterVec
	parseErrors *prometheus.CounterVec
	incidents   *prometheus.CounterVec
	findings    *prometheus.CounterVec
	inputs      *prometheus.CounterVec
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
	}
	reg.MustRegister(m.lines, m.parseErrors, m.incidents, m.findings, m.inputs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
