package audit

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

func TestDaemonResults(t *testing.T) {
	in := []checks.Check{
		{ID: "firewall.cloudflare_allowed.ipv4", Status: checks.Fail, Cause: correlate.CauseFirewallBlocks, Summary: "IPv4 covered except 131.0.72.0/22", Fix: []string{"iptables -I INPUT -s 131.0.72.0/22 -p tcp -m multiport --dports 80,443 -j ACCEPT"}},
		{ID: "firewall.cloudflare_allowed.ipv6", Status: checks.Pass},
		{ID: "firewall.origin_exposed", Status: checks.Warn},
		{ID: "tls.certificate", Status: checks.Fail, Cause: correlate.CauseTLSInvalid, Summary: "certificate expired", Fix: []string{"certbot renew"}},
		{ID: "listener.443", Status: checks.Fail, Cause: correlate.CauseListenerDown}, // checks.Listeners', every few seconds
		{ID: "nginx.real_ip", Status: checks.Skip},
		{ID: "firewall.bans_cloudflare", Status: checks.Fail, Cause: correlate.CauseFirewallBlocks, Summary: "fail2ban jail nginx-botsearch bans Cloudflare address 173.245.48.10", Fix: []string{"fail2ban-client set nginx-botsearch unbanip 173.245.48.10"}},
		{ID: "nginx.log_format", Status: checks.Warn}, // audit-only advice, no finding
	}
	got := daemonResults(in)
	if len(got) != 4 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Reported() != checks.ReportBad || got[0].Cause != correlate.CauseFirewallBlocks || got[0].Remediation() != in[0].Fix[0] {
		t.Errorf("ipv4: %+v", got[0])
	}
	if got[1].Reported() != checks.ReportGood || got[1].ID != "firewall.cloudflare_allowed.ipv6" {
		t.Errorf("ipv6: %+v", got[1])
	}
	if got[2].Reported() != checks.ReportBad || got[2].Cause != correlate.CauseTLSInvalid || got[2].Remediation() == "" {
		t.Errorf("tls: %+v", got[2])
	}
	if got[3].Reported() != checks.ReportBad || got[3].ID != "firewall.bans_cloudflare" || got[3].Cause != correlate.CauseFirewallBlocks || got[3].Remediation() != in[6].Fix[0] {
		t.Errorf("bans: %+v", got[3])
	}
}

// countingLister counts the audits that listed the firewall.
type countingLister struct {
	fakeLister
	versions int
}

func (c *countingLister) Version(ctx context.Context) (string, error) {
	c.versions++
	return c.fakeLister.Version(ctx)
}

// Periodic audits again only once Every has passed on its own clock.
func TestPeriodicClock(t *testing.T) {
	l := &countingLister{}
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	p := &Periodic{Every: 10 * time.Minute, Now: func() time.Time { return now },
		Opts: Options{Lister: l, FS: fstest.MapFS{}, ProcRoot: t.TempDir(), Memory: func(context.Context) (checks.Memory, error) {
			return checks.Memory{}, errors.New("no memory here")
		}}}
	p.Run(context.Background())
	if l.versions != 1 {
		t.Fatalf("first run listed the firewall %d times, want 1", l.versions)
	}
	now = now.Add(9 * time.Minute)
	p.Run(context.Background())
	if l.versions != 1 {
		t.Errorf("9 minutes later: listed %d times, want the kept result", l.versions)
	}
	now = now.Add(time.Minute)
	p.Run(context.Background())
	if l.versions != 2 {
		t.Errorf("10 minutes later: listed %d times, want 2", l.versions)
	}
}
