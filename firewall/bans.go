package firewall

import (
	"net/netip"
	"slices"
	"strings"
)

// Ban is a rule that drops or rejects new connections from some of
// Cloudflare's addresses to a web port while the rest of Cloudflare gets
// in: a ban by fail2ban, CrowdSec or a hand-made rule. Visitors whose
// requests Cloudflare routes through a banned edge server get 521 (the
// connection was rejected) or 522 (dropped: no answer), everyone else is
// fine, which makes it hard to see from outside.
type Ban struct {
	Family Family
	// Tool is "fail2ban", "crowdsec" or "" (a rule of unknown origin),
	// recognised from the chain or set name (f2b-JAIL, fail2ban-JAIL,
	// crowdsec*); Jail is fail2ban's jail.
	Tool string
	Jail string
	// Table is "FAMILY NAME" for a native nftables table; "" for iptables.
	Table string
	Chain string // chain of the rule that decided
	Index int    // its 1-based position in Chain
	Rule  string // its text
	Set   string // the ipset (or nft set) whose entries matched; "" for -s rules
	// Addrs are the set entries or -s prefixes that hold Cloudflare
	// addresses: what an unban removes.
	Addrs  []netip.Prefix
	Action Action // Drop or Reject
	Ports  []uint16
}

// BanScan is the result of FindBans.
type BanScan struct {
	Bans []Ban
	// Unknown lists ban-like rules (a source address or ipset match with
	// DROP/REJECT) whose effect on Cloudflare could not be decided, e.g.
	// because the ipset contents could not be read.
	Unknown []string
}

// FindBans follows a new TCP connection from every Cloudflare range (of
// ranges) to each port through the iptables rulesets and the native
// nftables input chains of fw, and reports each DROP/REJECT rule that
// matches on the source address or a source set and catches part of
// Cloudflare. A rule that drops everything (a policy, a bare -j DROP) is
// not a ban: the cloudflare_allowed checks report those. A ban behind an
// earlier ACCEPT for Cloudflare is harmless and not reported.
func FindBans(fw *Firewall, ranges Ranges, ports []uint16) BanScan {
	var scan BanScan
	byKey := map[string]int{}
	for _, fam := range []Family{IPv4, IPv6} {
		src := ranges.V4
		rs := fw.V4
		if fam == IPv6 {
			src, rs = ranges.V6, fw.V6
		}
		if len(src) == 0 {
			continue
		}
		var tables []struct {
			name string
			rs   *Ruleset
			base string
		}
		if rs != nil {
			tables = append(tables, struct {
				name string
				rs   *Ruleset
				base string
			}{"", rs, "INPUT"})
		}
		if fw.Nft != nil {
			for _, c := range fw.Nft.Input {
				// iptables-nft's own tables are the iptables rules above.
				if fw.Backend == "nf_tables" && (c.Family == "ip" || c.Family == "ip6") && c.Table == "filter" {
					continue
				}
				if !(c.Family == "inet" || (c.Family == "ip" && fam == IPv4) || (c.Family == "ip6" && fam == IPv6)) {
					continue
				}
				r := *c.Rules
				r.Family = fam
				tables = append(tables, struct {
					name string
					rs   *Ruleset
					base string
				}{c.Family + " " + c.Table, &r, c.Name})
			}
		}
		for _, tb := range tables {
			for _, port := range ports {
				v := Evaluate(tb.rs, Query{Sources: src, DPort: port, Chain: tb.base})
				for _, rv := range v.Ranges {
					r := ruleAt(tb.rs, rv.Chain, rv.Index)
					if r == nil || !banLike(r) {
						continue
					}
					key := fam.String() + "\x00" + tb.name + "\x00" + rv.Chain + "\x00" + r.Text
					if rv.Action == Unknown {
						if !slices.Contains(scan.Unknown, r.Text+": "+rv.Reason) {
							scan.Unknown = append(scan.Unknown, r.Text+": "+rv.Reason)
						}
						continue
					}
					if rv.Action != Drop && rv.Action != Reject {
						continue
					}
					i, ok := byKey[key]
					if !ok {
						b := Ban{Family: fam, Table: tb.name, Chain: rv.Chain, Index: rv.Index, Rule: r.Text, Action: rv.Action}
						b.Set = srcSet(r)
						b.Tool, b.Jail = banTool(b.Chain, b.Set)
						scan.Bans = append(scan.Bans, b)
						i = len(scan.Bans) - 1
						byKey[key] = i
					}
					b := &scan.Bans[i]
					if !slices.Contains(b.Ports, port) {
						b.Ports = append(b.Ports, port)
					}
					for _, a := range banEntries(tb.rs, r, b.Set, rv.Prefix) {
						if !slices.Contains(b.Addrs, a) {
							b.Addrs = append(b.Addrs, a)
						}
					}
				}
			}
		}
	}
	for i := range scan.Bans {
		slices.SortFunc(scan.Bans[i].Addrs, comparePrefix)
	}
	return scan
}

func ruleAt(rs *Ruleset, chain string, index int) *Rule {
	c := rs.Chains[chain]
	if c == nil || index < 1 || index > len(c.Rules) {
		return nil
	}
	return c.Rules[index-1]
}

// banLike: a DROP/REJECT that singles out sources.
func banLike(r *Rule) bool {
	if r.Target.Kind != TargetDrop && r.Target.Kind != TargetReject {
		return false
	}
	if len(r.Src.Prefixes) > 0 && !r.Src.Negate {
		for _, p := range r.Src.Prefixes {
			if p.Bits() == 0 {
				return false // -s 0.0.0.0/0 is everyone
			}
		}
		return true
	}
	return srcSet(r) != ""
}

// srcSet is the first set the rule matches sources against.
func srcSet(r *Rule) string {
	for _, s := range r.Sets {
		if !s.Negate && len(s.Flags) == 1 && s.Flags[0] == "src" {
			return s.Name
		}
	}
	return ""
}

// banTool recognises fail2ban (chains and sets f2b-JAIL; fail2ban-JAIL
// before 0.9) and CrowdSec (crowdsec-blacklists*, CROWDSEC_CHAIN, the nft
// bouncer's crowdsec tables).
func banTool(chain, set string) (tool, jail string) {
	for _, n := range []string{set, chain} {
		switch {
		case strings.HasPrefix(n, "f2b-"):
			return "fail2ban", strings.TrimPrefix(n, "f2b-")
		case strings.HasPrefix(n, "fail2ban-"):
			return "fail2ban", strings.TrimPrefix(n, "fail2ban-")
		case strings.Contains(strings.ToLower(n), "crowdsec"):
			return "crowdsec", ""
		}
	}
	return "", ""
}

// banEntries returns what the rule bans inside part: the set's entries
// (resolved through list:set) or the rule's -s prefixes that overlap it.
func banEntries(rs *Ruleset, r *Rule, set string, part netip.Prefix) []netip.Prefix {
	var entries []netip.Prefix
	if set != "" {
		ps, reason := resolveSet(rs.Sets, set, rs.Family, 0)
		if reason == "" {
			entries = ps
		}
	} else {
		entries = r.Src.Prefixes
	}
	var out []netip.Prefix
	for _, e := range entries {
		if e.Overlaps(part) {
			out = append(out, e.Masked())
		}
	}
	if len(out) == 0 {
		out = []netip.Prefix{part}
	}
	return out
}
