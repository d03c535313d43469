package firewall

import (
	"net/netip"
	"os"
	"slices"
	"testing"
)

func TestEvaluateNftNative(t *testing.T) {
	data, err := os.ReadFile("testdata/native.nft.json")
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseNft(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Input) != 1 || n.Input[0].Name != "input" || !n.HasTable("inet", "filter") {
		t.Fatalf("base chains %+v tables %v", n.Input, n.Tables)
	}
	v4 := EvaluateNft(n, IPv4, Query{Sources: cfV4(t), DPort: 443})
	tests := map[string][]string{
		"173.245.48.0/20":  {"173.245.48.0/20 accepted input#05"}, // named set + dport set
		"103.22.200.0/22":  {"103.22.200.0/22 accepted cf_extra#01"},
		"103.31.4.0/22":    {"103.31.4.0/22 dropped input"},       // jump, return, policy
		"108.162.192.0/18": {"108.162.192.0/18 unknown input#08"}, // limit rate
		"131.0.72.0/22":    {"131.0.72.0/22 dropped input"},
	}
	for src, want := range tests {
		if got := shorts(v4, src); !slices.Equal(got, want) {
			t.Errorf("%s: got %q want %q", src, got, want)
		}
	}
	v6 := EvaluateNft(n, IPv6, Query{Sources: []netip.Prefix{netip.MustParsePrefix("2400:cb00::/32"), netip.MustParsePrefix("2606:4700::/32")}, DPort: 443})
	if got := shorts(v6, "2400:cb00::/32"); !slices.Equal(got, []string{"2400:cb00::/32 accepted input#07"}) {
		t.Errorf("v6 got %q", got)
	}
	if got := shorts(v6, "2606:4700::/32"); !slices.Equal(got, []string{"2606:4700::/32 dropped input"}) {
		t.Errorf("v6 got %q", got)
	}
}

func TestParseNftIptablesNft(t *testing.T) {
	data, err := os.ReadFile("testdata/ufw-iptables-nft.nft.json")
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseNft(data)
	if err != nil {
		t.Fatal(err)
	}
	if !n.HasTable("ip", "filter") || !n.HasTable("ip6", "filter") || len(n.Input) != 2 {
		t.Fatalf("tables %v input %d", n.Tables, len(n.Input))
	}
	// iptables-nft rules carry xt expressions: never accepted by the nft view.
	v := EvaluateNft(n, IPv4, Query{Sources: cfV4(t), DPort: 443})
	for _, r := range v.Ranges {
		if r.Action == Accept {
			t.Errorf("false accept through xt expressions: %s", r)
		}
	}
	if _, err := ParseNft([]byte(`{"nftables":[{"table":1}]}`)); err == nil {
		t.Error("bad table accepted")
	}
}
