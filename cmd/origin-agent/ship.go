package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
)

// shipPoll is how often --ship looks at the spools while it waits for them
// to drain.
const shipPoll = 50 * time.Millisecond

// analysisFindings turns every incident of an analysis into one closed
// finding, as the daemon emits when an incident ends (same ids, so central
// logging de-duplicates an incident seen both live and by analyze).
func analysisFindings(res *analyze.Result, host string) []finding.Finding {
	var out []finding.Finding
	for _, c := range res.Cases {
		for _, inc := range c.Incidents {
			out = append(out, finding.FromIncident(host, correlate.Update{State: correlate.Closed, Incident: inc}, 0))
		}
	}
	return out
}

// shipTarget is one [[sinks]] table while --ship runs.
type shipTarget struct {
	name     string
	spoolDir string              // "" for local sinks (stdout, file)
	sp       *spool.Spool        // nil for local sinks
	private  bool                // sp is this run's own: the daemon holds the sink's spool
	spooled  map[string]struct{} // finding ids already waiting in sp before this run
	already  int                 // of ours, found already spooled and not appended again
	accepted int                 // findings the sink accepted (written, or fsynced to its spool)
	failed   int                 // findings the sink refused
	left     int                 // of ours, still in the spool when the wait ended
	dropped  int                 // of ours at most: removed from the spool without delivery
	emit     func(context.Context, finding.Finding) error
}

// delivered is how many of our findings reached the destination.
func (t *shipTarget) delivered() int {
	if t.sp == nil {
		return t.accepted
	}
	gone := t.accepted - t.left
	return gone - min(t.dropped, gone)
}

// shipFindings sends the incidents of res, as closed findings, through the
// [[sinks]] of cfg and waits up to timeout for every network sink's spool to
// drain. It writes one line per sink to stderr and returns the exit status:
// 0 when every sink got every finding,
// 1 when some are left in a spool (the daemon, which uses the same spool
// directories, delivers them on its next run), were refused, or could not be
// delivered in time through this run's own spool (the daemon holds the
// sink's), 2 when a sink could not be started (nothing is shipped then).
func shipFindings(ctx context.Context, cfg *config.Config, res *analyze.Result, timeout time.Duration, stderr io.Writer) int {
	say := func(f string, a ...any) { fmt.Fprintf(stderr, "origin-agent analyze: --ship: "+f+"\n", a...) }
	host := cfg.Agent.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	fs := analysisFindings(res, host)
	if len(fs) == 0 {
		say("no incidents, nothing to ship")
		return exitOK
	}
	reg := prometheus.NewRegistry()
	m, err := sink.NewMetrics(reg)
	if err != nil {
		say("%v", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A running daemon holds its spools (bbolt locks them). Rather than
	// refuse, this run then delivers that sink's findings through a spool
	// of its own, removed at exit: what it could not deliver in time is
	// reported, and a later --ship sends it again (same ids, de-duplicated).
	private := map[string]string{}
	defer func() {
		for _, dir := range private {
			os.RemoveAll(dir)
		}
	}()
	busy := func(name string) (string, error) {
		dir, err := os.MkdirTemp("", "origin-agent-ship-")
		if err != nil {
			return "", err
		}
		private[name] = dir
		say("%s: a running origin-agent holds its spool; delivering through this run's own", name)
		return dir, nil
	}
	dctx, stop := context.WithCancel(ctx)
	ems, closeAll := emittersWith(dctx, cfg, host, m, log, busy)
	defer func() { stop(); closeAll() }()
	if len(ems) != len(cfg.Sinks) {
		// emittersWith logged which and why.
		say("%d of %d sinks could not be started (see above): nothing shipped", len(cfg.Sinks)-len(ems), len(cfg.Sinks))
		return exitUsage
	}
	targets := make([]*shipTarget, len(ems))
	for i, e := range ems {
		t := &shipTarget{name: cfg.Sinks[i].Identity(), emit: e.Emit}
		if se, ok := e.(*spoolEmitter); ok {
			t.sp, t.spoolDir = se.sp, sink.SpoolDir(cfg.Agent.StateDir, cfg.Sinks[i])
			if dir, ok := private[t.name]; ok {
				t.spoolDir, t.private = dir, true
			}
			// A finding still spooled from an earlier --ship (the receiver
			// was down) is on its way: appending it again would deliver a
			// second copy once the receiver is back.
			if t.spooled, err = se.sp.IDs(); err != nil {
				say("%s: %v", t.name, err)
				return exitUsage
			}
		}
		targets[i] = t
	}
	for _, f := range fs {
		for _, t := range targets {
			if _, queued := t.spooled[f.ID]; queued {
				t.accepted++
				t.already++
				continue
			}
			if err := t.emit(ctx, f); err != nil {
				t.failed++
				say("%s: finding %s not accepted: %v", t.name, f.ID, err)
				continue
			}
			t.accepted++
		}
	}

	waitDrained(ctx, targets, timeout)
	stop()
	closeAll()
	closeAll = func() {}

	code := exitOK
	for _, t := range targets {
		if t.sp != nil {
			t.left = min(t.sp.Len(), t.accepted) // FIFO: ours are the newest entries
			t.dropped = droppedCount(m, t.name)
		}
		n := t.delivered()
		line := fmt.Sprintf("%s: %d of %d findings delivered", t.name, n, len(fs))
		switch {
		case t.left > 0 && t.private:
			line += fmt.Sprintf(", %d not delivered within --ship-timeout (the running daemon holds the sink's spool, so they cannot wait there for it: run --ship again)", t.left)
		case t.left > 0:
			line += fmt.Sprintf(", %d left in the spool %s (the daemon delivers them on its next run)", t.left, t.spoolDir)
		}
		if t.dropped > 0 {
			line += fmt.Sprintf(", %d dropped (spool bound or rejected by the destination)", t.dropped)
		}
		if t.failed > 0 {
			line += fmt.Sprintf(", %d not accepted", t.failed)
		}
		if t.already > 0 {
			line += fmt.Sprintf(" (%d were still spooled from an earlier run and were not queued twice)", t.already)
		}
		say("%s", line)
		if n < len(fs) {
			code = exitFail
		}
	}
	return code
}

// waitDrained returns when none of our findings is left in any spool, when
// timeout passed, or when ctx ends (SIGINT).
func waitDrained(ctx context.Context, targets []*shipTarget, timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(shipPoll)
	defer tick.Stop()
	for {
		pending := false
		for _, t := range targets {
			if t.sp != nil && t.accepted > 0 && t.sp.Len() > 0 {
				pending = true
			}
		}
		if !pending {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// droppedCount reads how many findings sink name gave up (spool bound or a
// permanent rejection) from the metrics of this run.
func droppedCount(m *sink.Metrics, name string) int {
	total := 0
	for _, reason := range []string{"full", "permanent"} {
		var pm dto.Metric
		if err := m.Dropped.WithLabelValues(name, reason).Write(&pm); err == nil {
			total += int(pm.GetCounter().GetValue())
		}
	}
	return total
}

// shipUsage checks the --ship flags and loads the config before the
// analysis runs, so that a bad config fails fast (exit 2).
func shipUsage(fs *flag.FlagSet, ship bool, cfgPath string, wait time.Duration, out **config.Config, stderr io.Writer) int {
	if !ship {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "config" || f.Name == "ship-timeout" })
		if set {
			fmt.Fprintf(stderr, "origin-agent analyze: --config and --ship-timeout only apply with --ship\n")
			return exitUsage
		}
		return exitOK
	}
	if wait <= 0 {
		fmt.Fprintf(stderr, "origin-agent analyze: --ship-timeout must be positive\n")
		return exitUsage
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent analyze: --ship: invalid configuration:\n%v\n", err)
		return exitUsage
	}
	*out = cfg
	return exitOK
}
