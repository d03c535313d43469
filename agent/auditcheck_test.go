package agent

import (
	"testing"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

func TestAuditResults(t *testing.T) {
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
	got := auditResults(in)
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
