package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/origin-agent/origin-agent/agent"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
	"github.com/origin-agent/origin-agent/internal/stateown"
)

// emitters builds the finding outputs of the [[sinks]] tables. Local sinks
// (stdout, file) are written synchronously; every network sink gets a disk
// spool in the state directory and a deliverer that drains it, so a finding
// is accepted once it is on disk and removed only when the destination
// confirmed it. The deliverers run until ctx ends; closeAll waits for them.
func emitters(ctx context.Context, cfg *config.Config, host string, m *sink.Metrics, log *slog.Logger) ([]agent.Emitter, func()) {
	return emittersWith(ctx, cfg, host, m, log, nil)
}

// emittersWith is emitters with a way out for a spool another process
// holds: busy, when not nil, returns the directory of a spool to use
// instead for sink name (analyze --ship beside a running daemon).
func emittersWith(ctx context.Context, cfg *config.Config, host string, m *sink.Metrics, log *slog.Logger, busy func(name string) (string, error)) ([]agent.Emitter, func()) {
	var out []agent.Emitter
	var wg sync.WaitGroup
	var closers []func()
	deps := sink.Deps{Log: log, Metrics: m, Hostname: host,
		Redact: sink.RedactConfig{Disabled: !cfg.Privacy.Redact, ExtraParams: cfg.Privacy.RedactParams}}
	sink.PrepareSpools(cfg.Agent.StateDir, cfg.Sinks, log)
	for _, c := range cfg.Sinks {
		name := c.Identity()
		m.Init(name)
		if c.Type == "file" {
			if err := os.MkdirAll(filepath.Dir(c.Path), 0o750); err != nil {
				log.Error("sink not started", "sink", name, "err", err)
				continue
			}
			_ = stateown.Path(filepath.Dir(c.Path))
		}
		s, err := sink.New(c, deps)
		if err != nil {
			log.Error("sink not started", "sink", name, "err", err)
			continue
		}
		if !sink.Spooled(c) {
			out = append(out, &sendEmitter{s: s, name: name, m: m})
			closers = append(closers, func() { s.Close() })
			continue
		}
		open := func(dir string) (*spool.Spool, error) {
			return spool.Open(dir, int64(c.SpoolMaxBytes), spool.WithDropHook(m.DropHook(name, log)))
		}
		sp, err := open(sink.SpoolDir(cfg.Agent.StateDir, c))
		if errors.Is(err, spool.ErrLocked) && busy != nil {
			var dir string
			if dir, err = busy(name); err == nil {
				sp, err = open(dir)
			}
		}
		if err != nil {
			log.Error("sink spool", "sink", name, "err", err)
			s.Close()
			continue
		}
		d := sink.NewDeliverer(name, sp, s, sink.DeliverOptionsFrom(c, deps))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("deliverer stopped", "sink", name, "err", err)
			}
		}()
		out = append(out, &spoolEmitter{sp: sp})
		closers = append(closers, func() { sp.Close(); s.Close() })
	}
	return out, func() {
		wg.Wait()
		for _, c := range closers {
			c()
		}
	}
}

// sendEmitter writes to a local sink (stdout, file) and returns when it is
// written; it keeps the same sink metrics as a spooled sink: sent, or
// dropped with reason "write" (a full disk: the agent logs the error and
// the next finding is tried afresh).
type sendEmitter struct {
	s    sink.Sink
	name string
	m    *sink.Metrics
}

func (e *sendEmitter) Emit(ctx context.Context, f finding.Finding) error {
	if err := e.s.Send(ctx, []finding.Finding{f}); err != nil {
		e.m.Dropped.WithLabelValues(e.name, "write").Inc()
		return err
	}
	e.m.Sent.WithLabelValues(e.name).Inc()
	return nil
}

// spoolEmitter accepts a finding once the spool fsynced it.
type spoolEmitter struct{ sp *spool.Spool }

func (e *spoolEmitter) Emit(_ context.Context, f finding.Finding) error { return e.sp.Append(f) }
