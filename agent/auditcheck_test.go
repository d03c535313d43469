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
	}
	got := auditResults(in)
	if len(got) != 3 {
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
}
