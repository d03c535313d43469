package firewall

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		line  string
		check func(*Rule) bool
	}{
		{`-A INPUT -s 173.245.48.0/20 -p tcp -m tcp --dport 443 -j ACCEPT`, func(r *Rule) bool {
			return r.Src.Prefixes[0] == netip.MustParsePrefix("173.245.48.0/20") && r.Proto.Name == "tcp" && r.DPorts[0].Ranges[0] == PortRange{443, 443} && r.Target.Kind == TargetAccept
		}},
		{`-A INPUT ! -s 10.0.0.0/255.0.0.0 -j DROP`, func(r *Rule) bool {
			return r.Src.Negate && r.Src.Prefixes[0] == netip.MustParsePrefix("10.0.0.0/8") && r.Target.Kind == TargetDrop
		}},
		{`-A INPUT -p tcp -m multiport --dports 80,443,8000:8100 -j ACCEPT`, func(r *Rule) bool {
			return slices.Equal(r.DPorts[0].Ranges, []PortRange{{80, 80}, {443, 443}, {8000, 8100}})
		}},
		{`-A ufw-logging-deny -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "`, func(r *Rule) bool {
			return r.Target.Kind == TargetContinue && slices.Equal(r.Target.Args, []string{"--log-prefix", "[UFW BLOCK] "}) && slices.Equal(r.Unknown, []string{"-m limit"})
		}},
		{`-A INPUT -m comment --comment "allow \"cf\" web" -j ACCEPT`, func(r *Rule) bool { return r.Comment == `allow "cf" web` }},
		{`-A INPUT -m set ! --match-set cf4 src,dst -j DROP`, func(r *Rule) bool {
			return r.Sets[0].Negate && r.Sets[0].Name == "cf4" && slices.Equal(r.Sets[0].Flags, []string{"src", "dst"})
		}},
		{`-A INPUT -m conntrack --ctstate NEW,UNTRACKED --ctorigdst 1.2.3.4 -j ACCEPT`, func(r *Rule) bool {
			return slices.Equal(r.States[0].States, []string{"NEW", "UNTRACKED"}) && slices.Equal(r.Unknown, []string{"--ctorigdst 1.2.3.4"})
		}},
		{`-A INPUT -i eth+ -g IN_public`, func(r *Rule) bool { return r.InIface.Name == "eth+" && r.Target.Kind == TargetUnknown }}, // chain not declared
		{`-A INPUT -s 300.1.1.1/32 -j ACCEPT`, func(r *Rule) bool { return len(r.Unknown) == 1 && len(r.Src.Prefixes) == 0 }},
		{`-A INPUT -p tcp --tcp-flags SYN,ACK SYN -j DROP`, func(r *Rule) bool { return r.TCPFlags.Mask == flagSYN|flagACK && r.TCPFlags.Comp == flagSYN }},
	}
	for _, tt := range tests {
		rs, err := ParseIptables([]byte(tt.line), IPv4)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		r := rs.Chains["INPUT"]
		if r == nil {
			r = rs.Chains[rs.Order[0]]
		}
		if got := r.Rules[0]; !tt.check(got) || got.Text != tt.line || got.Index != 1 {
			t.Errorf("%s: parsed %+v", tt.line, got)
		}
	}
}

func TestParseIptablesErrors(t *testing.T) {
	for _, in := range []string{
		"-A",
		"-X INPUT",
		":INPUT MAYBE [0:0]",
		`-A INPUT -m comment --comment "unterminated`,
		"hello world",
	} {
		if _, err := ParseIptables([]byte(in), IPv4); !errors.Is(err, ErrBadRuleset) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
	// Other tables are skipped, counters and comments tolerated.
	rs, err := ParseIptables([]byte("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to 1.2.3.4\nCOMMIT\n*filter\n:INPUT ACCEPT [10:600]\n[5:300] -A INPUT -j DROP\n# Completed\nCOMMIT\n"), IPv4)
	if err != nil || len(rs.Chains) != 1 || rs.Chains["INPUT"].Rules[0].Target.Kind != TargetDrop {
		t.Fatalf("got %+v, %v", rs, err)
	}
}

func TestParseIPSetSave(t *testing.T) {
	data, err := os.ReadFile("testdata/mixed.ipset")
	if err != nil {
		t.Fatal(err)
	}
	sets, err := ParseIPSetSave(data)
	if err != nil {
		t.Fatal(err)
	}
	if s := sets["cf4"]; !s.Supported || len(s.Prefixes) != 3 || s.Family != IPv4 {
		t.Errorf("cf4 %+v", s)
	}
	if s := sets["cf6"]; s.Family != IPv6 || len(s.Prefixes) != 2 {
		t.Errorf("cf6 %+v", s)
	}
	if s := sets["admins"]; s.Prefixes[0] != netip.MustParsePrefix("192.0.2.10/32") {
		t.Errorf("admins %+v", s)
	}
	more, err := ParseIPSetSave([]byte("create r hash:ip family inet\nadd r 10.0.0.1-10.0.0.6\ncreate n hash:net family inet\nadd n 10.0.0.0/8\nadd n 10.1.0.0/16 nomatch\ncreate p hash:ip,port family inet\nadd p 1.2.3.4,tcp:80\ncreate l list:set size 8\nadd l r\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("10.0.0.2/31"), netip.MustParsePrefix("10.0.0.4/31"), netip.MustParsePrefix("10.0.0.6/32")}
	if !slices.Equal(more["r"].Prefixes, want) || more["n"].Supported || more["p"].Supported {
		t.Errorf("got r=%v n=%+v p=%+v", more["r"].Prefixes, more["n"], more["p"])
	}
	if ps, reason := resolveSet(more, "l", IPv4, 0); reason != "" || len(ps) != 4 {
		t.Errorf("list:set %v %q", ps, reason)
	}
	for _, bad := range []string{"add x 1.2.3.4\n", "create\n", "flush\n"} {
		if _, err := ParseIPSetSave([]byte(bad)); !errors.Is(err, ErrBadIPSet) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestPrefixSet(t *testing.T) {
	p := netip.MustParsePrefix
	got := subtract([]netip.Prefix{p("10.0.0.0/8")}, []netip.Prefix{p("10.128.0.0/9"), p("10.1.0.0/16")})
	want := []netip.Prefix{p("10.0.0.0/16"), p("10.2.0.0/15"), p("10.4.0.0/14"), p("10.8.0.0/13"), p("10.16.0.0/12"), p("10.32.0.0/11"), p("10.64.0.0/10")}
	if !slices.Equal(normalize(got), want) {
		t.Errorf("subtract = %v", normalize(got))
	}
	if got := normalize(append(got, p("10.1.0.0/16"), p("10.128.0.0/9"))); !slices.Equal(got, []netip.Prefix{p("10.0.0.0/8")}) {
		t.Errorf("merge = %v", got)
	}
	if got := intersect([]netip.Prefix{p("10.0.0.0/8"), p("2400:cb00::/32")}, []netip.Prefix{p("10.5.0.0/16"), p("2400:cb00:1::/48"), p("0.0.0.0/0")}); !slices.Equal(got, []netip.Prefix{p("10.0.0.0/8"), p("2400:cb00:1::/48")}) {
		t.Errorf("intersect = %v", got)
	}
}

func seeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzParseIptables(f *testing.F) {
	seeds(f, "testdata/*.save")
	seeds(f, "testdata/*.S")
	f.Add([]byte("-A INPUT ! -s 1.2.3.4/32 -p tcp --dport ! 80 -m set --match-set x src -g X\n"))
	src := []netip.Prefix{netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("2400:cb00::/32")}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseIptables(data, IPv4)
		if err != nil {
			return
		}
		for _, c := range rs.Chains {
			for i, r := range c.Rules {
				if r.Index != i+1 || r.Chain != c.Name || !strings.Contains(string(data), strings.TrimSpace(r.Text)) {
					t.Fatalf("rule %d of %s: %+v", i, c.Name, r)
				}
			}
		}
		rs.Chains["INPUT"] = &Chain{Name: "INPUT", Builtin: true, Policy: Target{Kind: TargetDrop, Name: "DROP"}, Rules: rs.Chains["INPUT"].rules()}
		v := Evaluate(rs, Query{Sources: src, DPort: 443})
		covered := map[netip.Prefix][]netip.Prefix{}
		for _, r := range v.Ranges {
			if !r.Source.Contains(r.Prefix.Addr()) || r.Prefix.Bits() < r.Source.Bits() {
				t.Fatalf("verdict %s outside its source %s", r.Prefix, r.Source)
			}
			covered[r.Source] = append(covered[r.Source], r.Prefix)
		}
		for _, s := range src {
			if got := normalize(covered[s]); len(got) != 1 || got[0] != s {
				t.Fatalf("source %s covered by %v", s, got)
			}
		}
	})
}

// rules returns c's rules; nil-safe for the fuzz target.
func (c *Chain) rules() []*Rule {
	if c == nil {
		return nil
	}
	return c.Rules
}

func FuzzParseIPSetSave(f *testing.F) {
	seeds(f, "testdata/*.ipset")
	f.Add([]byte("create r hash:ip family inet6\nadd r ::1-::ff\ncreate l list:set\nadd l r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sets, err := ParseIPSetSave(data)
		if err != nil {
			return
		}
		for name, s := range sets {
			for _, p := range s.Prefixes {
				if !p.IsValid() || (s.Supported && !s.Family.has(p.Addr())) {
					t.Fatalf("set %s: bad prefix %v", name, p)
				}
			}
			resolveSet(sets, name, IPv4, 0)
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add(embeddedV4, 4)
	f.Add(embeddedV6, 6)
	f.Add([]byte(v4Body), 4)
	f.Fuzz(func(t *testing.T, data []byte, fam int) {
		ps, err := ParseList(data, Family(fam))
		if err != nil {
			return
		}
		if len(ps) < minRanges || len(ps) > maxRanges {
			t.Fatalf("%d ranges accepted", len(ps))
		}
		for i, p := range ps {
			if p != p.Masked() || p.Addr().IsPrivate() || !Family(fam).has(p.Addr()) || overlapsAny(p, ps[:i]) {
				t.Fatalf("accepted %s", p)
			}
		}
	})
}
