package checks

import (
	"os"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/firewall"
)

func TestBansCheck(t *testing.T) {
	ranges, err := firewall.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	fwOf := func(rules, sets string) *firewall.Firewall {
		t.Helper()
		rs, err := firewall.ParseIptables([]byte(rules), firewall.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Sets, err = firewall.ParseIPSetSave([]byte(sets)); err != nil {
			t.Fatal(err)
		}
		return &firewall.Firewall{V4: rs}
	}
	f2bRules, _ := os.ReadFile("../../firewall/testdata/fail2ban.rules")
	f2bSets, _ := os.ReadFile("../../firewall/testdata/fail2ban.ipset")
	tests := []struct {
		name    string
		fw      *firewall.Firewall
		status  Status
		summary []string
		fix     []string
	}{
		{"fail2ban (captured)", fwOf(string(f2bRules), string(f2bSets)), Fail,
			[]string{"fail2ban jail nginx-botsearch bans Cloudflare address 173.245.48.10 (ipset f2b-nginx-botsearch, rejected)",
				"fail2ban jail nginx-http-auth bans Cloudflare address 162.158.7.9 (chain f2b-nginx-http-auth, rejected)", "get 521"},
			[]string{"fail2ban-client set nginx-botsearch unbanip 173.245.48.10", "fail2ban-client set nginx-http-auth unbanip 162.158.7.9",
				"ignoreip = 127.0.0.1/8 ::1 173.245.48.0/20 ", "fail2ban-client reload", "real_ip_header CF-Connecting-IP"}},
		{"CrowdSec", fwOf("-P INPUT ACCEPT\n-N CROWDSEC_CHAIN\n-A INPUT -j CROWDSEC_CHAIN\n-A CROWDSEC_CHAIN -m set --match-set crowdsec-blacklists-0 src -j DROP\n",
			"create crowdsec-blacklists-0 hash:net family inet timeout 300\nadd crowdsec-blacklists-0 104.16.5.5 timeout 14321\nadd crowdsec-blacklists-0 172.64.0.0/16 timeout 9000\n"), Fail,
			[]string{"CrowdSec bans Cloudflare address 104.16.5.5, 172.64.0.0/16 (ipset crowdsec-blacklists-0, dropped)", "get 522"},
			[]string{"cscli decisions delete --ip 104.16.5.5", "cscli decisions delete --range 172.64.0.0/16",
				"'    - \"173.245.48.0/20\"'", "> /etc/crowdsec/parsers/s02-enrich/cloudflare-whitelist.yaml", "systemctl reload crowdsec"}},
		{"a hand-made rule", fwOf("-P INPUT ACCEPT\n-A INPUT -s 131.0.72.0/22 -p tcp -m tcp --dport 443 -j DROP\n", ""), Fail,
			[]string{"a firewall rule bans Cloudflare address 131.0.72.0/22 (chain INPUT, dropped)"},
			[]string{"iptables -D INPUT -s 131.0.72.0/22 -p tcp -m tcp --dport 443 -j DROP"}},
		{"nothing banned", fwOf("-P INPUT ACCEPT\n-A INPUT -s 203.0.113.0/24 -j DROP\n", ""), Pass, []string{"no fail2ban, CrowdSec or other rule drops Cloudflare addresses on ports 80,443"}, nil},
		{"not read", nil, Skip, []string{"not root"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := BansCheck(tt.fw, "not root", ranges, []uint16{80, 443})
			if c.Status != tt.status {
				t.Errorf("%s %s, want %s", c.Status, c.Summary, tt.status)
			}
			if (c.Status == Fail) != (c.Cause == correlate.CauseFirewallBlocks) {
				t.Errorf("status %s with cause %q: a ban is firewall_blocks_cloudflare for the daemon", c.Status, c.Cause)
			}
			for _, s := range tt.summary {
				if !strings.Contains(c.Summary, s) {
					t.Errorf("summary lacks %q: %s", s, c.Summary)
				}
			}
			fix := strings.Join(c.Fix, "\n")
			for _, f := range tt.fix {
				if !strings.Contains(fix, f) {
					t.Errorf("fix lacks %q:\n%s", f, fix)
				}
			}
		})
	}
}
