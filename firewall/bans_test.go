package firewall

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func banFirewall(t *testing.T, v4 string, ipsets []byte) *Firewall {
	t.Helper()
	rs, err := ParseIptables([]byte(v4), IPv4)
	if err != nil {
		t.Fatal(err)
	}
	if ipsets != nil {
		if rs.Sets, err = ParseIPSetSave(ipsets); err != nil {
			t.Fatal(err)
		}
	}
	v6, _ := ParseIptables([]byte("-P INPUT ACCEPT\n"), IPv6)
	return &Firewall{V4: rs, V6: v6, Backend: "nf_tables"}
}

func banText(b Ban) string {
	return fmt.Sprintf("%s %s jail=%s chain=%s set=%s %s %v %v", b.Family, b.Tool, b.Jail, b.Chain, b.Set, b.Action, b.Addrs, b.Ports)
}

// crowdsecRules is the shape of cs-firewall-bouncer's iptables mode
// (CROWDSEC_CHAIN, crowdsec-blacklists-N ipsets with timeouts), written
// after its documentation: no CrowdSec was run here.
const crowdsecRules = `-P INPUT ACCEPT
-N CROWDSEC_CHAIN
-A INPUT -j CROWDSEC_CHAIN
-A CROWDSEC_CHAIN -m set --match-set crowdsec-blacklists-0 src -j DROP
`

const crowdsecSets = `create crowdsec-blacklists-0 hash:net family inet hashsize 1024 maxelem 131072 timeout 300 bucketsize 12 initval 0x1b2c3d4e
add crowdsec-blacklists-0 104.16.5.5 timeout 14321
add crowdsec-blacklists-0 203.0.113.7 timeout 14321
add crowdsec-blacklists-0 172.64.0.0/16 timeout 9000
`

func TestFindBans(t *testing.T) {
	ranges, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	// Captured with iptables -S and ipset save in a test namespace after
	// running fail2ban's iptables-ipset-proto6 and iptables-multiport
	// actions' commands (agent/audit TestBansCloudflareEndToEnd).
	f2bRules, f2bSets := string(readTestdata(t, "fail2ban.rules")), readTestdata(t, "fail2ban.ipset")
	tests := []struct {
		name    string
		fw      *Firewall
		want    []string
		unknown string
	}{
		{"fail2ban: ipset and chain actions; the sshd jail is not on a web port", banFirewall(t, f2bRules, f2bSets), []string{
			"ipv4 fail2ban jail=nginx-botsearch chain=INPUT set=f2b-nginx-botsearch rejected [173.245.48.10/32] [80 443]",
			"ipv4 fail2ban jail=nginx-http-auth chain=f2b-nginx-http-auth set= rejected [162.158.7.9/32] [80 443]",
		}, ""},
		{"CrowdSec: only the entries inside Cloudflare", banFirewall(t, crowdsecRules, []byte(crowdsecSets)), []string{
			"ipv4 crowdsec jail= chain=CROWDSEC_CHAIN set=crowdsec-blacklists-0 dropped [104.16.5.5/32 172.64.0.0/16] [80 443]",
		}, ""},
		{"a ban behind an ACCEPT for Cloudflare harms nobody", banFirewall(t,
			"-P INPUT DROP\n-A INPUT -s 162.158.0.0/15 -p tcp -m multiport --dports 80,443 -j ACCEPT\n-A INPUT -s 162.158.7.9/32 -j DROP\n", nil), nil, ""},
		{"a policy DROP is not a ban", banFirewall(t, "-P INPUT DROP\n-A INPUT -j REJECT\n", nil), nil, ""},
		{"a hand-made rule on port 443 only", banFirewall(t, "-P INPUT ACCEPT\n-A INPUT -s 131.0.72.0/22 -p tcp --dport 443 -j DROP\n", nil), []string{
			" jail= chain=INPUT set= dropped [131.0.72.0/22] [443]"}, ""},
		{"ipset contents unreadable: cannot tell", banFirewall(t, f2bRules, nil), []string{
			"ipv4 fail2ban jail=nginx-http-auth chain=f2b-nginx-http-auth set= rejected [162.158.7.9/32] [80 443]",
		}, "ipset contents not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scan := FindBans(tt.fw, ranges, []uint16{80, 443})
			var got []string
			for _, b := range scan.Bans {
				got = append(got, banText(b))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("bans:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasSuffix(got[i], tt.want[i]) {
					t.Errorf("ban %d: %s\nwant  %s", i, got[i], tt.want[i])
				}
			}
			u := strings.Join(scan.Unknown, "\n")
			if (tt.unknown == "") != (u == "") || !strings.Contains(u, tt.unknown) {
				t.Errorf("unknown %q, want %q", u, tt.unknown)
			}
		})
	}
}

// TestFindBansNft: CrowdSec's nftables bouncer keeps its own tables (ip
// crowdsec, ip6 crowdsec6) with a timeout set and a drop rule, which
// iptables cannot see. Captured with nft -j list ruleset in a test
// namespace after creating them as the bouncer does.
func TestFindBansNft(t *testing.T) {
	ranges, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	nft, err := ParseNft(readTestdata(t, "crowdsec.nft.json"))
	if err != nil {
		t.Fatal(err)
	}
	empty := func(fam Family) *Ruleset {
		rs, _ := ParseIptables([]byte("-P INPUT ACCEPT\n"), fam)
		return rs
	}
	fw := &Firewall{V4: empty(IPv4), V6: empty(IPv6), Nft: nft, Backend: "nf_tables"}
	scan := FindBans(fw, ranges, []uint16{80, 443})
	var got []string
	for _, b := range scan.Bans {
		got = append(got, b.Table+" "+banText(b))
	}
	want := []string{
		"ip crowdsec ipv4 crowdsec jail= chain=crowdsec-chain set=crowdsec-blacklists dropped [104.16.5.5/32] [80 443]",
		"ip6 crowdsec6 ipv6 crowdsec jail= chain=crowdsec6-chain set=crowdsec6-blacklists dropped [2606:4700::6810:505/128] [80 443]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(scan.Unknown) > 0 {
		t.Errorf("bans:\n%s\nwant:\n%s\nunknown %q", strings.Join(got, "\n"), strings.Join(want, "\n"), scan.Unknown)
	}
}
