package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink"
)

// TestSinkMetricsFromTheStart: every configured sink, local or spooled,
// has its series at zero before anything happened (increase() misses a
// first drop otherwise), local sinks count what they wrote, and the build
// is labelled.
func TestSinkMetricsFromTheStart(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Agent.StateDir = dir
	sy := config.DefaultSink("syslog")
	sy.Name, sy.Address = "central", "tcp://127.0.0.1:1"
	cfg.Sinks = []config.Sink{config.DefaultSink("stdout"), sy}
	reg := prometheus.NewRegistry()
	reg.MustRegister(buildInfo())
	m, err := sink.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ems, closeAll := emittersWith(ctx, cfg, "web1", m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	defer func() { cancel(); closeAll() }()
	// Read from the registry first: WithLabelValues below would create the
	// series the emitters were to create.
	text, err := testutil.GatherAndCount(reg, "origin_agent_sink_dropped_total")
	if err != nil || text != 2*len(sink.DropReasons) {
		t.Errorf("origin_agent_sink_dropped_total has %d series (%v), want %d", text, err, 2*len(sink.DropReasons))
	}
	if n, err := testutil.GatherAndCount(reg, "origin_agent_sink_sent_total"); err != nil || n != 2 {
		t.Errorf("origin_agent_sink_sent_total has %d series (%v), want one per sink", n, err)
	}
	for _, name := range []string{"stdout", "central"} {
		if v := testutil.ToFloat64(m.Sent.WithLabelValues(name)); v != 0 {
			t.Errorf("sent{%s} = %v before anything was sent", name, v)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "origin_agent_build_info"); err != nil || n != 1 {
		t.Errorf("origin_agent_build_info: %d series, %v", n, err)
	}
	if err := ems[0].Emit(ctx, finding.Finding{Schema: finding.Schema, ID: "x"}); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(m.Sent.WithLabelValues("stdout")); v != 1 {
		t.Errorf("the stdout sink wrote a finding, sent = %v", v)
	}
}
