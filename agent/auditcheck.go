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
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// AuditCheck repeats the origin audit every Every (minutes, not seconds:
// it lists the firewall) and reports the checks that make Cloudflare fail
// before any visitor does: firewall_blocks_cloudflare (a firewall closed
// to Cloudflare, or fail2ban/CrowdSec banning some of its edge servers)
// and tls_certificate_invalid. Listeners are ListenerCheck's (every few
// seconds). With Manage it also keeps the ORIGIN-AGENT-CF chain in sync
// with the Cloudflare ranges (idempotent: nothing changes when in sync).
type AuditCheck struct {
	Opts   audit.Options
	Every  time.Duration
	Manage *audit.ApplyOptions
	Log    *slog.Logger

	mu   sync.Mutex
	last time.Time
	keep []CheckResult
}

func (c *AuditCheck) Name() string { return "audit" }

// Run returns the last audit's results, auditing again when they are older
// than Every.
func (c *AuditCheck) Run(ctx context.Context) []CheckResult {
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

// auditResults maps audit checks to check states. Warnings and skips say
// nothing certain, so they leave the state as it was.
func auditResults(cs []checks.Check) []CheckResult {
	var out []CheckResult
	for _, ch := range cs {
		var cause correlate.Cause
		switch {
		case strings.HasPrefix(ch.ID, "firewall.cloudflare_allowed."), ch.ID == checks.BansID:
			cause = correlate.CauseFirewallBlocks
		case ch.ID == "tls.certificate":
			cause = correlate.CauseTLSInvalid
		default:
			continue
		}
		switch ch.Status {
		case checks.Pass:
			out = append(out, CheckResult{ID: ch.ID, OK: true})
		case checks.Fail:
			fix := "Run `origin-agent audit --fix` for the commands"
			if len(ch.Fix) > 0 {
				fix = strings.Join(ch.Fix, "\n")
			}
			out = append(out, CheckResult{ID: ch.ID, Cause: cause, Summary: ch.Summary, Remediation: fix})
		}
	}
	return out
}
