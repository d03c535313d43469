package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/audit"
	"github.com/origin-agent/origin-agent/agent/checks"
)

// AuditCheck repeats the origin audit every Every (minutes, not seconds:
// it lists the firewall) and reports the checks that make Cloudflare fail
// before any visitor does: firewall_blocks_cloudflare (a firewall closed
// to Cloudflare, or fail2ban/CrowdSec banning some of its edge servers)
// and tls_certificate_invalid (the checks that carry a cause). Listeners
// are checks.Listeners' (every few seconds), so the audit's are left out.
// With Manage it also keeps the ORIGIN-AGENT-CF chain in sync with the
// Cloudflare ranges (idempotent: nothing changes when in sync).
type AuditCheck struct {
	Opts   audit.Options
	Every  time.Duration
	Manage *audit.ApplyOptions
	Log    *slog.Logger

	mu   sync.Mutex
	last time.Time
	keep []checks.Check
}

var _ checks.Checker = (*AuditCheck)(nil)

func (c *AuditCheck) Name() string { return "audit" }

// Run returns the last audit's results, auditing again when they are older
// than Every.
func (c *AuditCheck) Run(ctx context.Context) []checks.Check {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.last.IsZero() && time.Since(c.last) < c.Every {
		return c.keep
	}
	c.last = time.Now()
	if c.Manage != nil {
		m := *c.Manage
		m.Out = io.Discard
		if err := audit.Apply(m); err != nil && c.Log != nil {
			c.Log.Error("keeping ORIGIN-AGENT-CF in sync", "err", err)
		}
	}
	o := c.Opts
	o.Now = time.Now()
	rep := audit.Run(ctx, o)
	for _, e := range rep.Errors {
		if c.Log != nil {
			c.Log.Warn("audit incomplete", "err", e)
		}
	}
	c.keep = auditResults(rep.Checks)
	return c.keep
}

// auditResults keeps the audit checks the daemon reports: those with a
// cause, and passes (which resolve them), but not the listeners.
func auditResults(cs []checks.Check) []checks.Check {
	var out []checks.Check
	for _, ch := range cs {
		if strings.HasPrefix(ch.ID, "listener.") || ch.Reported() == checks.ReportNothing {
			continue
		}
		out = append(out, ch)
	}
	return out
}
