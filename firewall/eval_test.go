package firewall

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

func mustRules(t testing.TB, text string) *Ruleset {
	t.Helper()
	rs, err := ParseIptables([]byte(text), IPv4)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func fileRules(t testing.TB, name string) *Ruleset {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	fam := IPv4
	if strings.Contains(name, "6") {
		fam = IPv6
	}
	rs, err := ParseIptables(data, fam)
	if err != nil {
		t.Fatal(err)
	}
	sets, err := os.ReadFile("testdata/mixed.ipset")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Sets, err = ParseIPSetSave(sets); err != nil {
		t.Fatal(err)
	}
	return rs
}

func cfV4(t testing.TB) []netip.Prefix {
	r, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return r.V4
}

// short renders a verdict as "prefix action chain#index".
func short(v RangeVerdict) string {
	s := v.Prefix.String() + " " + v.Action.String()
	if v.Chain != "" {
		s += " " + v.Chain
		if v.Index > 0 {
			s += "#" + string(rune('0'+v.Index/10)) + string(rune('0'+v.Index%10))
		}
	}
	return s
}

func shorts(v Verdict, src string) []string {
	var out []string
	for _, r := range v.Of(netip.MustParsePrefix(src)) {
		out = append(out, short(r))
	}
	return out
}

// Expected per-range verdicts on captured real rulesets.
func TestEvaluateCaptured(t *testing.T) {
	tests := []struct {
		file  string
		port  uint16
		iface string
		want  map[string][]string // queried range → verdicts
	}{
		{"plain.save", 443, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted INPUT#05"},
			"172.64.0.0/13":   {"172.64.0.0/13 accepted INPUT#18"},
			"131.0.72.0/22":   {"131.0.72.0/22 dropped INPUT"}, // partial coverage: the one range missing
		}},
		{"ufw.save", 443, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted ufw-user-input#02"},
			"103.21.244.0/22": {"103.21.244.0/22 accepted ufw-user-input#03"},
			"141.101.64.0/18": {"141.101.64.0/18 dropped INPUT"},
		}},
		{"ufw.save", 80, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 dropped INPUT"},
			"103.21.244.0/22": {"103.21.244.0/22 accepted ufw-user-input#03"},
		}},
		{"ufw.S", 443, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted ufw-user-input#02"},
			"141.101.64.0/18": {"141.101.64.0/18 dropped INPUT"},
		}},
		{"docker.S", 443, "", map[string][]string{
			"131.0.72.0/22": {"131.0.72.0/22 accepted INPUT"},
		}},
		{"ufw-legacy-warning.S", 443, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted ufw-user-input#02"},
		}},
		{"firewalld.save", 443, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted IN_public_allow#02"},
			"103.22.200.0/22": {"103.22.200.0/22 rejected IN_public_deny#01"},
			"131.0.72.0/22":   {"131.0.72.0/22 rejected INPUT#06"},
		}},
		{"firewalld.save", 443, "eth0", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted IN_public_allow#02"},
		}},
		{"docker.save", 443, "", map[string][]string{
			"173.245.48.0/20": {"173.245.48.0/20 accepted INPUT"},
		}},
		{"mixed.save", 443, "", map[string][]string{
			// half of a range allowed: split
			"173.245.48.0/20": {"173.245.48.0/21 accepted CF#01", "173.245.56.0/21 rejected INPUT#09"},
			// ! -s RETURN skips everything but 198.41.128.0/17, which hits the SYN drop
			"198.41.128.0/17": {"198.41.128.0/17 dropped CF#03"},
			// NFQUEUE: userspace decides
			"188.114.96.0/20": {"188.114.96.0/20 unknown EXTRA#02"},
		}},
		{"mixed.save", 80, "", map[string][]string{
			// ipset match accepts before the connlimit rule
			"162.158.0.0/15": {"162.158.0.0/15 accepted INPUT#05"},
			// unknown module with ACCEPT: never a false accept
			"131.0.72.0/22": {"131.0.72.0/22 unknown INPUT#07"},
		}},
	}
	for _, tt := range tests {
		rs := fileRules(t, tt.file)
		v := Evaluate(rs, Query{Sources: cfV4(t), DPort: tt.port, InIface: tt.iface})
		if len(v.Ranges) < 15 {
			t.Errorf("%s: %d verdicts for 15 ranges", tt.file, len(v.Ranges))
		}
		for src, want := range tt.want {
			if got := shorts(v, src); !slices.Equal(got, want) {
				t.Errorf("%s :%d %s:\n got  %q\n want %q", tt.file, tt.port, src, got, want)
			}
		}
	}
}

func TestEvaluateIPv6UFW(t *testing.T) {
	rs := fileRules(t, "ufw6.save")
	if !slices.Contains(rs.Order, "ufw6-user-input") {
		t.Fatalf("chains: %v", rs.Order)
	}
	src := netip.MustParsePrefix("2400:cb00::/32")
	v := Evaluate(rs, Query{Sources: []netip.Prefix{src, netip.MustParsePrefix("173.245.48.0/20")}, DPort: 443})
	got := v.Lines()
	if len(got) != 2 || !strings.HasPrefix(got[0], "2400:cb00::/32: dropped by INPUT policy") || !strings.Contains(got[1], "unknown (ruleset is ipv6)") {
		t.Fatalf("got %q", got)
	}
}

// Literal rulesets for single behaviours.
func TestEvaluateRules(t *testing.T) {
	const head = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	tests := []struct {
		name, rules, src string
		q                Query
		want             []string
	}{
		{"accept all", "-A INPUT -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"lo only", "-A INPUT -i lo -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"not lo", "-A INPUT ! -i lo -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"iface unknown", "-A INPUT -i eth0 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 unknown INPUT#01"}},
		{"iface known", "-A INPUT -i eth0 -j ACCEPT\n", "131.0.72.0/22", Query{InIface: "eth0"}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"iface wildcard", "-A INPUT -i eth+ -j ACCEPT\n", "131.0.72.0/22", Query{InIface: "eth1"}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"iface other", "-A INPUT -i eth+ -j ACCEPT\n", "131.0.72.0/22", Query{InIface: "ens3"}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"negated source", "-A INPUT ! -s 131.0.72.0/23 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/23 dropped INPUT", "131.0.74.0/23 accepted INPUT#01"}},
		{"comma sources", "-A INPUT -s 10.0.0.1,131.0.72.0/24 -p tcp --dport 443 -j ACCEPT\n", "131.0.72.0/22", Query{},
			[]string{"131.0.72.0/24 accepted INPUT#01", "131.0.73.0/24 dropped INPUT", "131.0.74.0/23 dropped INPUT"}},
		{"wrong port", "-A INPUT -p tcp -m tcp --dport 8443 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"port range", "-A INPUT -p tcp -m tcp --dport 1:1024 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"negated port", "-A INPUT -p tcp -m tcp ! --dport 22 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"multiport list", "-A INPUT -p tcp -m multiport --dports 22,80,8000:9000 -j ACCEPT\n", "131.0.72.0/22", Query{DPort: 80}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"udp only", "-A INPUT -p udp -m udp --dport 443 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"established only", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"state new", "-A INPUT -p tcp -m state --state NEW -m tcp --dport 443 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"log continues", "-A INPUT -j LOG --log-prefix \"in: \"\n-A INPUT -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#02"}},
		{"rate limit", "-A INPUT -p tcp --dport 443 -m limit --limit 25/minute --limit-burst 100 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 unknown INPUT#01"}},
		{"rate limit agreeing", "-A INPUT -m hashlimit --hashlimit-above 10/sec --hashlimit-name x -j DROP\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"recent then accept", "-A INPUT -p tcp --dport 443 -m recent --set --name web\n-A INPUT -p tcp --dport 443 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#02"}},
		{"unknown target", "-A INPUT -j TARPIT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 unknown INPUT#01"}},
		{"addrtype local", "-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"addrtype broadcast", "-A INPUT -m addrtype --dst-type BROADCAST -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"syn drop", "-A INPUT -p tcp ! --syn -j ACCEPT\n-A INPUT -p tcp --syn -j DROP\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT#02"}},
		{"ipset missing", "-A INPUT -m set --match-set nope src -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 unknown INPUT#01"}},
		{"ipset dst", "-A INPUT -m set --match-set cf4 dst -j ACCEPT\n", "162.158.0.0/15", Query{}, []string{"162.158.0.0/15 unknown INPUT#01"}},
		{"ipset negated", "-A INPUT -m set ! --match-set cf4 src -j DROP\n-A INPUT -j ACCEPT\n", "162.0.0.0/8", Query{},
			[]string{"162.0.0.0/9 dropped INPUT#01", "162.128.0.0/12 dropped INPUT#01", "162.144.0.0/13 dropped INPUT#01", "162.152.0.0/14 dropped INPUT#01", "162.156.0.0/15 dropped INPUT#01", "162.158.0.0/15 accepted INPUT#02", "162.160.0.0/11 dropped INPUT#01", "162.192.0.0/10 dropped INPUT#01"}},
		{"dst multicast", "-A INPUT -d 224.0.0.251/32 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
		{"dst host unknown", "-A INPUT -d 192.0.2.1/32 -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 unknown INPUT#01"}},
		{"dst host known", "-A INPUT -d 192.0.2.1/32 -j ACCEPT\n", "131.0.72.0/22", Query{Dst: netip.MustParseAddr("192.0.2.1")}, []string{"131.0.72.0/22 accepted INPUT#01"}},
		{"return from builtin", "-A INPUT -j RETURN\n-A INPUT -j ACCEPT\n", "131.0.72.0/22", Query{}, []string{"131.0.72.0/22 dropped INPUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := mustRules(t, head+tt.rules+"COMMIT\n")
			rs.Sets, _ = ParseIPSetSave([]byte("create cf4 hash:net family inet\nadd cf4 162.158.0.0/15\n"))
			q := tt.q
			q.Sources = []netip.Prefix{netip.MustParsePrefix(tt.src)}
			if q.DPort == 0 {
				q.DPort = 443
			}
			if got := shorts(Evaluate(rs, q), tt.src); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEvaluateChains(t *testing.T) {
	tests := []struct {
		name, rules string
		want        []string
	}{
		{"jump and return", ":A - [0:0]\n-A INPUT -j A\n-A INPUT -j ACCEPT\n-A A -s 131.0.72.0/23 -j DROP\n-A A -j RETURN\n",
			[]string{"131.0.72.0/23 dropped A#01", "131.0.74.0/23 accepted INPUT#02"}},
		{"goto falls to policy", ":A - [0:0]\n-A INPUT -g A\n-A INPUT -j ACCEPT\n",
			[]string{"131.0.72.0/22 dropped INPUT"}},
		{"goto from user chain returns to caller's caller", ":A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A INPUT -j ACCEPT\n-A A -g B\n-A A -j DROP\n",
			[]string{"131.0.72.0/22 accepted INPUT#02"}},
		{"loop", ":A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\n",
			[]string{"131.0.72.0/22 unknown B#01"}},
		{"self goto loop", ":A - [0:0]\n-A INPUT -j A\n-A A -g A\n",
			[]string{"131.0.72.0/22 unknown A#01"}},
		{"missing chain", "-A INPUT -j NOSUCH\n", []string{"131.0.72.0/22 unknown INPUT#01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := mustRules(t, ":INPUT DROP [0:0]\n"+tt.rules)
			got := shorts(Evaluate(rs, Query{Sources: []netip.Prefix{netip.MustParsePrefix("131.0.72.0/22")}, DPort: 443}), "131.0.72.0/22")
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestVerdictString(t *testing.T) {
	rs := fileRules(t, "mixed.save")
	v := Evaluate(rs, Query{Sources: []netip.Prefix{netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("131.0.72.0/22")}, DPort: 80})
	want := []string{
		"173.245.48.0/20: unknown by INPUT rule 7: -A INPUT -p tcp -m tcp --dport 80 -m connlimit --connlimit-above 50 --connlimit-mask 32 --connlimit-saddr -j ACCEPT (not understood: -m connlimit; if it matches: accepted, if not: rejected)",
		"131.0.72.0/22: unknown by INPUT rule 7: -A INPUT -p tcp -m tcp --dport 80 -m connlimit --connlimit-above 50 --connlimit-mask 32 --connlimit-saddr -j ACCEPT (not understood: -m connlimit; if it matches: accepted, if not: rejected)",
	}
	if got := v.Lines(); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	p := fileRules(t, "plain.save")
	got := Evaluate(p, Query{Sources: []netip.Prefix{netip.MustParsePrefix("131.0.72.0/22")}, DPort: 443}).Lines()
	if !slices.Equal(got, []string{"131.0.72.0/22: dropped by INPUT policy"}) {
		t.Errorf("got %q", got)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	for _, f := range []string{"ufw.save", "mixed.save"} {
		b.Run(f, func(b *testing.B) {
			rs := fileRules(b, f)
			q := Query{Sources: cfV4(b), DPort: 443}
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(rs, q)
			}
		})
	}
}
