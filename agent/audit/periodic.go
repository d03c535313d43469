package audit

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
)

// Periodic is the daemon's audit: it repeats the origin audit every Every (minutes, not seconds:
// it lists the firewall) and reports the checks that make Cloudflare fail
// before any visitor does: firewall_blocks_cloudflare (a firewall closed
// to Cloudflare, or fail2ban/CrowdSec banning some of its edge servers)
// and tls_certificate_invalid (the checks that carry a cause). Listeners
// are checks.Listeners' (every few seconds), so the audit's are left out.
// With Manage it also keeps the ORIGIN-AGENT-CF chain in sync with the
// Cloudflare ranges (idempotent: nothing changes when in sync).
type Periodic struct {
	Opts   Options
	Every  time.Duration
	Manage *ApplyOptions
	Log    *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now

	mu   sync.Mutex
	last time.Time
	keep []checks.Check
}

var _ checks.Checker = (*Periodic)(nil)

func (c *Periodic) Name() string { return "audit" }

// Run returns the last audit's results, auditing again when they are older
// than Every.
func (c *Periodic) Run(ctx context.Context) []checks.Check {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	if !c.last.IsZero() && t.Sub(c.last) < c.Every {
		return c.keep
	}
	c.last = t
	if c.Manage != nil {
		m := *c.Manage
		m.Out = io.Discard
		if err := Apply(m); err != nil {
			c.log().Error("keeping ORIGIN-AGENT-CF in sync", "err", err)
		}
	}
	o := c.Opts
	o.Now = c.last
	rep := Run(ctx, o)
	for _, e := range rep.Errors {
		c.log().Warn("audit incomplete", "err", e)
	}
	c.keep = daemonResults(rep.Checks)
	return c.keep
}

func (c *Periodic) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// daemonResults keeps the audit checks the daemon reports: those with a
// cause, and passes (which resolve them), but not the listeners.
func daemonResults(cs []checks.Check) []checks.Check {
	var out []checks.Check
	for _, ch := range cs {
		if strings.HasPrefix(ch.ID, "listener.") || ch.Reported() == checks.ReportNothing {
			continue
		}
		out = append(out, ch)
	}
	return out
}
