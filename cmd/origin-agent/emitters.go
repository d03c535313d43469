package main

import (
	"context"
	"errors"
	"fmt"
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

// sinkConfig maps one [[sinks]] table to the sink package's config.
func sinkConfig(i int, s config.Sink, p config.Privacy) sink.Config {
	return sink.Config{
		Name: fmt.Sprintf("%s-%d", s.Type, i+1), Type: s.Type,
		Path: s.Path, MaxSize: int64(s.MaxSize), MaxFiles: s.MaxFiles,
		Address: s.Address, CAFile: s.CAFile, CertFile: s.CertFile, KeyFile: s.KeyFile, ServerName: s.ServerName,
		Facility: s.Facility, AppName: s.AppName,
		URL: s.URL, Tenant: s.Tenant, Headers: s.Headers, Labels: s.Labels, Gzip: s.Gzip,
		Index: s.Index, Username: s.Username, Password: s.Password, APIKey: s.APIKey,
		BatchSize: s.BatchSize, BatchWait: s.BatchWait.D(), Timeout: s.Timeout.D(), RetryMax: s.RetryMax.D(),
		SpoolMaxBytes: int64(s.SpoolMaxBytes),
		Redact:        sink.RedactConfig{Disabled: !p.Redact, ExtraParams: p.RedactParams},
	}
}

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
	deps := sink.Deps{Log: log, Metrics: m, Hostname: host}
	for i, sc := range cfg.Sinks {
		c := sinkConfig(i, sc, cfg.Privacy)
		if c.Type == "file" {
			if err := os.MkdirAll(filepath.Dir(c.Path), 0o750); err != nil {
				log.Error("sink not started", "sink", c.Name, "err", err)
				continue
			}
			_ = stateown.Path(filepath.Dir(c.Path))
		}
		s, err := sink.New(c, deps)
		if err != nil {
			log.Error("sink not started", "sink", c.Name, "err", err)
			continue
		}
		if !c.Spooled() {
			out = append(out, &sendEmitter{s: s})
			closers = append(closers, func() { s.Close() })
			continue
		}
		open := func(dir string) (*spool.Spool, error) {
			return spool.Open(dir, c.WithDefaults().SpoolMaxBytes, spool.WithDropHook(m.DropHook(c.Name, log)))
		}
		sp, err := open(filepath.Join(cfg.Agent.StateDir, "spool", c.Name))
		if errors.Is(err, spool.ErrLocked) && busy != nil {
			var dir string
			if dir, err = busy(c.Name); err == nil {
				sp, err = open(dir)
			}
		}
		if err != nil {
			log.Error("sink spool", "sink", c.Name, "err", err)
			s.Close()
			continue
		}
		d := sink.NewDeliverer(c.Name, sp, s, sink.DeliverOptionsFrom(c, deps))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("deliverer stopped", "sink", c.Name, "err", err)
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

// sendEmitter writes to a local sink and returns when it is written.
type sendEmitter struct{ s sink.Sink }

func (e *sendEmitter) Emit(ctx context.Context, f finding.Finding) error {
	return e.s.Send(ctx, []finding.Finding{f})
}

// spoolEmitter accepts a finding once the spool fsynced it.
type spoolEmitter struct{ sp *spool.Spool }

func (e *spoolEmitter) Emit(_ context.Context, f finding.Finding) error { return e.sp.Append(f) }
