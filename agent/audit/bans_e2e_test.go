package audit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestBansCloudflareEndToEnd: in the lab's namespaces, real ipsets and
// iptables rules shaped as fail2ban writes them (an ipset action and a
// chain action) ban Cloudflare edge addresses; a request from the edge
// namespace is refused, firewall.bans_cloudflare fails and names each ban;
// the printed fix, run as printed, lets the edge in again and the check
// passes.
func TestBansCloudflareEndToEnd(t *testing.T) {
	testenv.Require(t, labNeeds(testenv.Command("ipset", "ipset"), testenv.Command("nft", "nftables"))...)
	l := newLab(t)
	path := "PATH=" + os.Getenv("PATH")
	ban := func(t *testing.T, doc auditDoc) (status, summary string, fix []string) {
		for _, c := range doc.Checks {
			if c.ID == "firewall.bans_cloudflare" {
				return c.Status, c.Summary, c.Fix
			}
		}
		t.Fatalf("no firewall.bans_cloudflare in %+v", doc)
		return
	}

	l.t = t
	if !l.curl(l.edge, "http://173.245.48.1/") {
		t.Fatal("the edge cannot reach nginx before any ban")
	}
	doc, _, _ := l.audit([]string{path})
	if s, sum, _ := ban(t, doc); s != "pass" {
		t.Fatalf("no ban yet: %s %s", s, sum)
	}

	t.Run("fail2ban ipset and chain actions", func(t *testing.T) {
		l.t = t
		// fail2ban's iptables-ipset-proto6 action, as it runs it.
		l.in(l.origin, "ipset", "-exist", "create", "f2b-nginx-botsearch", "hash:ip", "timeout", "0", "maxelem", "65536")
		l.in(l.origin, "iptables", "-I", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-m", "set", "--match-set", "f2b-nginx-botsearch", "src", "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
		l.in(l.origin, "ipset", "-exist", "add", "f2b-nginx-botsearch", "173.245.48.10", "timeout", "0")
		// fail2ban's iptables-multiport action (its own chain).
		l.in(l.origin, "iptables", "-N", "f2b-nginx-http-auth")
		l.in(l.origin, "iptables", "-A", "f2b-nginx-http-auth", "-j", "RETURN")
		l.in(l.origin, "iptables", "-I", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "http,https", "-j", "f2b-nginx-http-auth")
		l.in(l.origin, "iptables", "-I", "f2b-nginx-http-auth", "1", "-s", "162.158.7.9", "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
		// An sshd jail's ban touches no web port: not reported.
		l.in(l.origin, "iptables", "-N", "f2b-sshd")
		l.in(l.origin, "iptables", "-A", "f2b-sshd", "-j", "RETURN")
		l.in(l.origin, "iptables", "-I", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "22", "-j", "f2b-sshd")
		l.in(l.origin, "iptables", "-I", "f2b-sshd", "1", "-s", "162.158.7.10", "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
		if os.Getenv("ORIGIN_AGENT_CAPTURE") != "" {
			os.WriteFile(filepath.Join("../../firewall/testdata", "fail2ban.rules"), []byte(l.in(l.origin, "iptables", "-S")), 0o644)
			os.WriteFile(filepath.Join("../../firewall/testdata", "fail2ban.ipset"), []byte(l.in(l.origin, "ipset", "save")), 0o644)
		}

		if l.curl(l.edge, "http://173.245.48.1/") {
			t.Fatal("the banned edge address still reaches nginx")
		}
		doc, code, _ := l.audit([]string{path})
		s, sum, fix := ban(t, doc)
		if s != "fail" || code != 1 {
			t.Errorf("exit %d, %s %s", code, s, sum)
		}
		for _, want := range []string{"fail2ban jail nginx-botsearch bans Cloudflare address 173.245.48.10 (ipset f2b-nginx-botsearch, rejected)",
			"fail2ban jail nginx-http-auth bans Cloudflare address 162.158.7.9 (chain f2b-nginx-http-auth, rejected)", "get 521"} {
			if !strings.Contains(sum, want) {
				t.Errorf("summary lacks %q: %s", want, sum)
			}
		}
		if strings.Contains(sum, "sshd") {
			t.Errorf("an sshd-only ban reported: %s", sum)
		}
		joined := strings.Join(fix, "\n")
		for _, want := range []string{"fail2ban-client set nginx-botsearch unbanip 173.245.48.10", "fail2ban-client set nginx-http-auth unbanip 162.158.7.9", "ignoreip = 127.0.0.1/8 ::1 173.245.48.0/20"} {
			if !strings.Contains(joined, want) {
				t.Errorf("fix lacks %q:\n%s", want, joined)
			}
		}
		// What fail2ban-client's unbanip does for these two actions.
		l.in(l.origin, "ipset", "del", "f2b-nginx-botsearch", "173.245.48.10")
		l.in(l.origin, "iptables", "-D", "f2b-nginx-http-auth", "-s", "162.158.7.9/32", "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
		if !l.curl(l.edge, "http://173.245.48.1/") {
			t.Error("the edge still cannot reach nginx after the unban")
		}
		doc, _, _ = l.audit([]string{path})
		if s, sum, _ := ban(t, doc); s != "pass" {
			t.Errorf("after the unban: %s %s", s, sum)
		}
	})

	t.Run("a blocklist ipset: the printed fix, run as printed", func(t *testing.T) {
		l.t = t
		l.in(l.origin, "ipset", "create", "blocklist", "hash:net")
		l.in(l.origin, "ipset", "add", "blocklist", "173.245.48.0/24")
		l.in(l.origin, "iptables", "-I", "INPUT", "-m", "set", "--match-set", "blocklist", "src", "-j", "DROP")
		doc, _, _ := l.audit([]string{path})
		s, sum, fix := ban(t, doc)
		if s != "fail" || !strings.Contains(sum, "a firewall rule bans Cloudflare address 173.245.48.0/24 (ipset blocklist, dropped)") || !strings.Contains(sum, "get 522") {
			t.Fatalf("%s %s", s, sum)
		}
		ran := 0
		for _, f := range fix {
			if strings.HasPrefix(f, "ipset ") {
				out, err := exec.Command("ip", "netns", "exec", l.origin, "sh", "-c", f).CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v %s", f, err, out)
				}
				ran++
			}
		}
		if ran != 1 {
			t.Fatalf("%d ipset commands in the fix:\n%s", ran, strings.Join(fix, "\n"))
		}
		if !l.curl(l.edge, "http://173.245.48.1/") {
			t.Error("the edge still cannot reach nginx after the printed fix")
		}
		doc, _, _ = l.audit([]string{path})
		if s, sum, _ := ban(t, doc); s != "pass" {
			t.Errorf("after the fix: %s %s", s, sum)
		}
	})

	t.Run("CrowdSec nftables bouncer", func(t *testing.T) {
		l.t = t
		// The tables cs-firewall-bouncer (nftables mode) keeps, which
		// iptables cannot see.
		nft := exec.Command("ip", "netns", "exec", l.origin, "nft", "-f", "-")
		nft.Stdin = strings.NewReader(`table ip crowdsec {
	set crowdsec-blacklists {
		type ipv4_addr
		flags timeout
	}
	chain crowdsec-chain {
		type filter hook input priority filter - 10; policy accept;
		ip saddr @crowdsec-blacklists drop
	}
}
`)
		if out, err := nft.CombinedOutput(); err != nil {
			t.Fatalf("nft: %v %s", err, out)
		}
		defer exec.Command("ip", "netns", "exec", l.origin, "nft", "delete", "table", "ip", "crowdsec").Run()
		l.in(l.origin, "nft", "add", "element", "ip", "crowdsec", "crowdsec-blacklists", "{ 173.245.48.10 timeout 4h }")
		if l.curl(l.edge, "http://173.245.48.1/") {
			t.Fatal("the banned edge address still reaches nginx")
		}
		doc, _, _ := l.audit([]string{path})
		s, sum, fix := ban(t, doc)
		if s != "fail" || !strings.Contains(sum, "CrowdSec bans Cloudflare address 173.245.48.10 (nft set crowdsec-blacklists in table ip crowdsec, dropped)") || !strings.Contains(sum, "get 522") {
			t.Errorf("%s %s", s, sum)
		}
		if j := strings.Join(fix, "\n"); !strings.Contains(j, "cscli decisions delete --ip 173.245.48.10") || !strings.Contains(j, "cloudflare-whitelist.yaml") {
			t.Errorf("fix:\n%s", j)
		}
		// What cscli decisions delete makes the bouncer do.
		l.in(l.origin, "nft", "delete", "element", "ip", "crowdsec", "crowdsec-blacklists", "{ 173.245.48.10 }")
		if !l.curl(l.edge, "http://173.245.48.1/") {
			t.Error("the edge still cannot reach nginx after the unban")
		}
		doc, _, _ = l.audit([]string{path})
		if s, sum, _ := ban(t, doc); s != "pass" {
			t.Errorf("after the unban: %s %s", s, sum)
		}
	})
}
