package audit

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/firewall"
)

func loadFW(t *testing.T, v4, v6 string) *firewall.Firewall {
	t.Helper()
	fw := &firewall.Firewall{Backend: "nf_tables"}
	for _, f := range []struct {
		name string
		fam  firewall.Family
		dst  **firewall.Ruleset
	}{{v4, firewall.IPv4, &fw.V4}, {v6, firewall.IPv6, &fw.V6}} {
		if f.name == "" {
			continue
		}
		data, err := os.ReadFile("../../firewall/testdata/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := firewall.ParseIptables(data, f.fam)
		if err != nil {
			t.Fatal(err)
		}
		*f.dst = rs
	}
	fw.Frontends = firewall.Detect(nil, fw.V4, fw.V6)
	return fw
}

func byID(cs []checks.Check, id string) checks.Check {
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	return checks.Check{}
}

func TestFirewallChecksOnCaptures(t *testing.T) {
	ranges, err := firewall.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v4, v6         string
		frontend       string
		v4Status       checks.Status
		v4Summary      string // substring
		stale, exposed checks.Status
		fixHas         string
	}{
		{"ufw.save", "ufw6.save", "ufw", checks.Fail, "IPv4 covered except", checks.Pass, checks.Pass, "ufw allow from 141.101.64.0/18 to any port 80,443 proto tcp"},
		{"plain.save", "", "iptables", checks.Fail, "IPv4 covered except 131.0.72.0/22:", checks.Pass, checks.Pass, "iptables -I INPUT -s 131.0.72.0/22 -p tcp -m multiport --dports 80,443 -j ACCEPT"},
		{"firewalld.save", "", "firewalld", checks.Fail, "no Cloudflare range may connect", checks.Pass, checks.Pass, "firewall-cmd --permanent --new-ipset=cloudflare-v4 --type=hash:net"},
		{"docker.save", "", "iptables", checks.Pass, "all 15 Cloudflare ranges", checks.Pass, checks.Warn, "netfilter-persistent save"},
	}
	for _, tt := range tests {
		t.Run(tt.v4, func(t *testing.T) {
			in := FirewallInput{FW: loadFW(t, tt.v4, tt.v6), Ranges: ranges, Ports: []uint16{80, 443}}
			if got := in.Frontend(); got != tt.frontend {
				t.Errorf("frontend %q, want %q", got, tt.frontend)
			}
			cs := FirewallChecks(in)
			for _, c := range cs {
				t.Logf("%s %s: %s", c.Status, c.ID, c.Summary)
			}
			v4 := byID(cs, "firewall.cloudflare_allowed.ipv4")
			if tt.v4Status != "" && (v4.Status != tt.v4Status || !strings.Contains(v4.Summary, tt.v4Summary)) {
				t.Errorf("ipv4: %s %s", v4.Status, v4.Summary)
			}
			if c := byID(cs, "firewall.stale_ranges"); c.Status != tt.stale {
				t.Errorf("stale: %s %s", c.Status, c.Summary)
			}
			if c := byID(cs, "firewall.origin_exposed"); c.Status != tt.exposed {
				t.Errorf("exposed: %s %s", c.Status, c.Summary)
			}
			if tt.v6 == "" {
				if c := byID(cs, "firewall.cloudflare_allowed.ipv6"); c.Status != checks.Skip {
					t.Errorf("ipv6 without a table: %s", c.Status)
				}
			}
			fix := FixCommands(in, firewall.IPv4, ranges.V4)
			if !slices.ContainsFunc(fix, func(s string) bool { return strings.HasPrefix(s, tt.fixHas) }) {
				t.Errorf("fix lacks %q: %q", tt.fixHas, fix)
			}
		})
	}
}

func TestFirewallChecksLiteral(t *testing.T) {
	ranges := firewall.Ranges{V4: prefixes(t, "173.245.48.0/20", "131.0.72.0/22"), V6: prefixes(t, "2400:cb00::/32")}
	tests := []struct {
		name, v4 string
		id       string
		status   checks.Status
		summary  string // substring
		fix      string // substring of some fix command
	}{
		{"stale range", `-P INPUT DROP
-A INPUT -s 104.16.0.0/12 -p tcp -m tcp --dport 443 -j ACCEPT
-A INPUT -s 173.245.48.0/20 -j ACCEPT
-A INPUT -s 131.0.72.0/22 -j ACCEPT`, "firewall.stale_ranges", checks.Warn, "-A INPUT -s 104.16.0.0/12", "iptables -D INPUT -s 104.16.0.0/12 -p tcp -m tcp --dport 443 -j ACCEPT"},
		{"unknown module", `-P INPUT DROP
-A INPUT -s 173.245.48.0/20 -j ACCEPT
-A INPUT -s 131.0.72.0/22 -m geoip --src-cc US -j ACCEPT`, "firewall.cloudflare_allowed.ipv4", checks.Warn, "cannot tell whether 131.0.72.0/22", "iptables -I INPUT"},
		{"partial", `-P INPUT DROP
-A INPUT -s 173.245.48.0/20 -j ACCEPT`, "firewall.cloudflare_allowed.ipv4", checks.Fail, "IPv4 covered except 131.0.72.0/22", "-s 131.0.72.0/22"},
		{"reject one port", `-P INPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset`, "firewall.cloudflare_allowed.ipv4", checks.Fail, "no Cloudflare range", "-s 173.245.48.0/20"},
		{"exposed", `-P INPUT ACCEPT`, "firewall.origin_exposed", checks.Warn, "bypassing Cloudflare", "--apply --restrict"},
		{"not exposed", `-P INPUT DROP
-A INPUT -s 10.0.0.0/8 -j ACCEPT
-A INPUT -s 173.245.48.0/20 -j ACCEPT`, "firewall.origin_exposed", checks.Pass, "accept only Cloudflare", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := firewall.ParseIptables([]byte(tt.v4), firewall.IPv4)
			if err != nil {
				t.Fatal(err)
			}
			in := FirewallInput{FW: &firewall.Firewall{V4: rs}, Ranges: ranges, Ports: []uint16{80, 443}}
			c := byID(FirewallChecks(in), tt.id)
			if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) {
				t.Errorf("%s %s", c.Status, c.Summary)
			}
			if tt.fix != "" && !slices.ContainsFunc(c.Fix, func(s string) bool { return strings.Contains(s, tt.fix) }) {
				t.Errorf("fix lacks %q: %q", tt.fix, c.Fix)
			}
		})
	}
}

func TestFirewallUnreadable(t *testing.T) {
	cs := FirewallChecks(FirewallInput{Reason: "iptables is not installed (nor nft): no firewall to audit"})
	if len(cs) != 4 {
		t.Fatalf("%d checks", len(cs))
	}
	for _, c := range cs {
		if c.Status != checks.Skip || !strings.Contains(c.Summary, "not installed") {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Summary)
		}
	}
}

func TestFixCommandsPerFrontend(t *testing.T) {
	r := prefixes(t, "2400:cb00::/32")
	tests := []struct {
		name string
		fw   *firewall.Firewall
		want []string
	}{
		{"ufw", &firewall.Firewall{Frontends: []firewall.Frontend{firewall.FrontendUFW}}, []string{
			"ufw allow from 2400:cb00::/32 to any port 80,443 proto tcp", "# ufw rules are persistent"}},
		{"firewalld", &firewall.Firewall{Frontends: []firewall.Frontend{firewall.FrontendFirewalld}}, []string{
			"firewall-cmd --permanent --new-ipset=cloudflare-v6 --type=hash:net --option=family=inet6",
			"firewall-cmd --permanent --ipset=cloudflare-v6 --add-entry=2400:cb00::/32",
			`firewall-cmd --permanent --add-rich-rule='rule family="ipv6" source ipset="cloudflare-v6" port port="80" protocol="tcp" accept'`,
			`firewall-cmd --permanent --add-rich-rule='rule family="ipv6" source ipset="cloudflare-v6" port port="443" protocol="tcp" accept'`,
			"firewall-cmd --reload   # --permanent rules survive reboots; --reload makes them live"}},
		{"nft", &firewall.Firewall{Nft: &firewall.NftRuleset{Input: []*firewall.NftBaseChain{{Family: "inet", Table: "filter", Name: "input"}}}}, []string{
			"nft add set inet filter cloudflare_v6 '{ type ipv6_addr; flags interval; elements = { 2400:cb00::/32 }; }'",
			"nft insert rule inet filter input ip6 saddr @cloudflare_v6 tcp dport { 80, 443 } accept",
			"nft list ruleset > /etc/nftables.conf   # persistent with the nftables service"}},
		{"plain", &firewall.Firewall{}, []string{
			"ip6tables -I INPUT -s 2400:cb00::/32 -p tcp -m multiport --dports 80,443 -j ACCEPT",
			"netfilter-persistent save   # or: ip6tables-save > /etc/iptables/rules.v6"}},
	}
	for _, tt := range tests {
		got := FixCommands(FirewallInput{FW: tt.fw, Ports: []uint16{80, 443}}, firewall.IPv6, r)
		got = got[:len(got)-1] // the --apply hint
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func prefixes(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func BenchmarkFirewallChecksUFW(b *testing.B) {
	ranges, _ := firewall.Embedded()
	data, _ := os.ReadFile("../../firewall/testdata/ufw.save")
	rs, err := firewall.ParseIptables(data, firewall.IPv4)
	if err != nil {
		b.Fatal(err)
	}
	in := FirewallInput{FW: &firewall.Firewall{V4: rs}, Ranges: ranges, Ports: []uint16{80, 443}}
	b.ReportAllocs()
	for b.Loop() {
		FirewallChecks(in)
	}
}
