package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/firewall"
)

// FirewallInput is what the firewall checks judge: the firewall as read
// (nil with Reason when it could not be read), the Cloudflare ranges and the
// audited ports.
type FirewallInput struct {
	FW     *firewall.Firewall
	Reason string // why FW is nil: "iptables is not installed", "not root"…
	Ranges firewall.Ranges
	Ports  []uint16
}

// Frontend names the tool whose commands the fixes use: firewalld, ufw,
// nft (native nftables tables and no iptables rules) or iptables.
func (in FirewallInput) Frontend() string {
	fw := in.FW
	if fw == nil {
		return "iptables"
	}
	switch {
	case slices.Contains(fw.Frontends, firewall.FrontendFirewalld):
		return "firewalld"
	case slices.Contains(fw.Frontends, firewall.FrontendUFW):
		return "ufw"
	case len(nativeNft(fw)) > 0 && emptyIptables(fw.V4) && emptyIptables(fw.V6):
		return "nft"
	}
	return "iptables"
}

// FirewallChecks returns the cloudflare_allowed checks per family, then
// stale_ranges and origin_exposed.
func FirewallChecks(in FirewallInput) []checks.Check {
	ids := []string{"firewall.cloudflare_allowed.ipv4", "firewall.cloudflare_allowed.ipv6", "firewall.stale_ranges", "firewall.origin_exposed"}
	if in.FW == nil {
		out := make([]checks.Check, 0, len(ids))
		for _, id := range ids {
			out = append(out, checks.Skipped(id, in.Reason))
		}
		return out
	}
	return []checks.Check{
		allowedCheck(in, firewall.IPv4, in.Ranges.V4),
		allowedCheck(in, firewall.IPv6, in.Ranges.V6),
		staleCheck(in),
		exposedCheck(in),
	}
}

func ruleset(fw *firewall.Firewall, fam firewall.Family) *firewall.Ruleset {
	if fam == firewall.IPv4 {
		return fw.V4
	}
	return fw.V6
}

// nativeNft returns the nftables input chains iptables cannot see: all of
// them except the ip/ip6 "filter" tables iptables-nft itself maintains.
func nativeNft(fw *firewall.Firewall) []*firewall.NftBaseChain {
	if fw.Nft == nil {
		return nil
	}
	var out []*firewall.NftBaseChain
	for _, c := range fw.Nft.Input {
		if fw.Backend == "nf_tables" && (c.Family == "ip" || c.Family == "ip6") && c.Table == "filter" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func emptyIptables(rs *firewall.Ruleset) bool {
	if rs == nil {
		return true
	}
	for _, c := range rs.Chains {
		if len(c.Rules) > 0 || (c.Builtin && c.Policy.Kind != firewall.TargetAccept) {
			return false
		}
	}
	return true
}

// evaluate combines iptables and native nftables: a range is accepted only
// when both accept it; otherwise the first non-accepting decision is kept.
func evaluate(fw *firewall.Firewall, fam firewall.Family, q firewall.Query) (firewall.Verdict, []string) {
	var notes []string
	v := firewall.Evaluate(ruleset(fw, fam), q)
	native := nativeNft(fw)
	if len(native) == 0 {
		return v, notes
	}
	var tables []string
	for _, c := range native {
		tables = append(tables, c.Family+" "+c.Table)
	}
	notes = append(notes, "native nftables input chains evaluated too: "+strings.Join(slices.Compact(tables), ", "))
	nv := firewall.EvaluateNft(fw.Nft, fam, q)
	var out firewall.Verdict
	for _, r := range v.Ranges {
		if r.Action != firewall.Accept {
			out.Ranges = append(out.Ranges, r)
			continue
		}
		for _, n := range nv.Of(r.Source) {
			if !n.Prefix.Overlaps(r.Prefix) {
				continue
			}
			part := n
			if n.Prefix.Bits() < r.Prefix.Bits() {
				part.Prefix = r.Prefix
			}
			out.Ranges = append(out.Ranges, part)
		}
	}
	return out, notes
}

type rangeResult struct {
	action firewall.Action
	lines  []string
}

func allowedCheck(in FirewallInput, fam firewall.Family, ranges []netip.Prefix) checks.Check {
	id := "firewall.cloudflare_allowed." + fam.String()
	c := checks.Check{ID: id, Details: map[string]any{}, Fix: []string{}}
	if ruleset(in.FW, fam) == nil {
		why := "the " + fam.String() + " filter table could not be read"
		for _, e := range in.FW.Errors {
			why += ": " + e.Error()
		}
		return checks.Skipped(id, why)
	}
	res := map[netip.Prefix]*rangeResult{}
	var notes []string
	for _, port := range in.Ports {
		v, n := evaluate(in.FW, fam, firewall.Query{Sources: ranges, DPort: port})
		notes = n
		for _, r := range v.Ranges {
			rr := res[r.Source]
			if rr == nil {
				rr = &rangeResult{action: firewall.Accept}
				res[r.Source] = rr
			}
			if r.Action != firewall.Accept {
				rr.lines = append(rr.lines, fmt.Sprintf("port %d: %s", port, r))
				if rr.action == firewall.Accept || rr.action == firewall.Unknown {
					rr.action = r.Action
				}
			}
		}
	}
	var blocked, unknown, verdicts []string
	for _, p := range ranges {
		rr := res[p]
		if rr == nil {
			unknown = append(unknown, p.String())
			continue
		}
		switch rr.action {
		case firewall.Accept:
			verdicts = append(verdicts, p.String()+": accepted")
		case firewall.Unknown:
			unknown = append(unknown, p.String())
			verdicts = append(verdicts, rr.lines...)
		default:
			blocked = append(blocked, p.String())
			verdicts = append(verdicts, rr.lines...)
		}
	}
	c.Details["frontend"] = in.Frontend()
	c.Details["frontends"] = in.FW.Frontends
	c.Details["backend"] = in.FW.Backend
	c.Details["ports"] = in.Ports
	c.Details["verdicts"] = verdicts
	if len(in.FW.Warnings) > 0 {
		c.Details["warnings"] = in.FW.Warnings
	}
	if len(notes) > 0 {
		c.Details["notes"] = notes
	}
	fam2 := map[firewall.Family]string{firewall.IPv4: "IPv4", firewall.IPv6: "IPv6"}[fam]
	ports := firewall.PortList(in.Ports)
	switch {
	case len(blocked) == len(ranges):
		c.Status = checks.Fail
		c.Summary = fmt.Sprintf("%s: no Cloudflare range may connect to ports %s: visitors get 521/522", fam2, ports)
	case len(blocked) > 0:
		c.Status = checks.Fail
		c.Summary = fmt.Sprintf("%s covered except %s: requests through those Cloudflare data centers get 522", fam2, strings.Join(blocked, ", "))
	case len(unknown) > 0:
		c.Status = checks.Warn
		c.Summary = fmt.Sprintf("%s: cannot tell whether %s may connect: a rule is not understood (see verdicts)", fam2, strings.Join(unknown, ", "))
	default:
		c.Status = checks.Pass
		c.Summary = fmt.Sprintf("%s: all %d Cloudflare ranges may connect to ports %s", fam2, len(ranges), ports)
		return c
	}
	c.Fix = FixCommands(in, fam, ranges)
	if c.Status == checks.Fail {
		c.Cause = correlate.CauseFirewallBlocks
	}
	return c
}

// FixCommands returns the commands that allow ranges of fam on the audited
// ports with the frontend in use, followed by how to make them persistent.
func FixCommands(in FirewallInput, fam firewall.Family, ranges []netip.Prefix) []string {
	ports := firewall.PortList(in.Ports)
	var out []string
	v6 := fam == firewall.IPv6
	switch in.Frontend() {
	case "ufw":
		for _, p := range ranges {
			out = append(out, fmt.Sprintf("ufw allow from %s to any port %s proto tcp", p, ports))
		}
		out = append(out, "# ufw rules are persistent")
	case "firewalld":
		set, fopt, rfam := "cloudflare-v4", "", "ipv4"
		if v6 {
			set, fopt, rfam = "cloudflare-v6", " --option=family=inet6", "ipv6"
		}
		out = append(out, fmt.Sprintf("firewall-cmd --permanent --new-ipset=%s --type=hash:net%s", set, fopt))
		for _, p := range ranges {
			out = append(out, fmt.Sprintf("firewall-cmd --permanent --ipset=%s --add-entry=%s", set, p))
		}
		for _, port := range in.Ports {
			out = append(out, fmt.Sprintf(`firewall-cmd --permanent --add-rich-rule='rule family="%s" source ipset="%s" port port="%d" protocol="tcp" accept'`, rfam, set, port))
		}
		out = append(out, "firewall-cmd --reload   # --permanent rules survive reboots; --reload makes them live")
	case "nft":
		c := nativeNft(in.FW)[0]
		typ, set, match := "ipv4_addr", "cloudflare_v4", "ip"
		if v6 {
			typ, set, match = "ipv6_addr", "cloudflare_v6", "ip6"
		}
		elems := make([]string, len(ranges))
		for i, p := range ranges {
			elems[i] = p.String()
		}
		out = append(out,
			fmt.Sprintf("nft add set %s %s %s '{ type %s; flags interval; elements = { %s }; }'", c.Family, c.Table, set, typ, strings.Join(elems, ", ")),
			fmt.Sprintf("nft insert rule %s %s %s %s saddr @%s tcp dport { %s } accept", c.Family, c.Table, c.Name, match, set, strings.ReplaceAll(ports, ",", ", ")),
			"nft list ruleset > /etc/nftables.conf   # persistent with the nftables service")
	default:
		bin, file := "iptables", "/etc/iptables/rules.v4"
		if v6 {
			bin, file = "ip6tables", "/etc/iptables/rules.v6"
		}
		for _, p := range ranges {
			out = append(out, fmt.Sprintf("%s -I INPUT -s %s -p tcp -m multiport --dports %s -j ACCEPT", bin, p, ports))
		}
		out = append(out, fmt.Sprintf("netfilter-persistent save   # or: %s-save > %s", bin, file))
	}
	out = append(out, "# or let origin-agent manage its own chain: origin-agent audit --apply")
	return out
}

func staleCheck(in FirewallInput) checks.Check {
	c := checks.Check{ID: "firewall.stale_ranges", Details: map[string]any{}, Fix: []string{}}
	var found []string
	for _, fam := range []firewall.Family{firewall.IPv4, firewall.IPv6} {
		rs := ruleset(in.FW, fam)
		if rs == nil {
			continue
		}
		bin := map[firewall.Family]string{firewall.IPv4: "iptables", firewall.IPv6: "ip6tables"}[fam]
		for _, name := range rs.Order {
			for _, r := range rs.Chains[name].Rules {
				if r.Src.Negate || (r.Target.Kind != firewall.TargetAccept && r.Target.Kind != firewall.TargetJump && r.Target.Kind != firewall.TargetGoto) {
					continue
				}
				for _, p := range r.Src.Prefixes {
					if firewall.IsStale(p) {
						found = append(found, r.Text)
						c.Fix = append(c.Fix, bin+" "+strings.Replace(r.Text, "-A ", "-D ", 1))
						break
					}
				}
			}
		}
	}
	c.Details["rules"] = found
	if len(found) == 0 {
		c.Status = checks.Pass
		c.Summary = "no rule allows a range Cloudflare no longer uses (104.16.0.0/12, 199.27.128.0/21)"
		return c
	}
	c.Status = checks.Warn
	c.Summary = fmt.Sprintf("%d rule(s) still allow ranges Cloudflare no longer uses, letting other hosts in: %s", len(found), strings.Join(found, "; "))
	if in.Frontend() == "ufw" {
		c.Fix = append(c.Fix, "# under ufw delete them with: ufw status numbered; ufw delete N")
	}
	c.Fix = append(c.Fix, "netfilter-persistent save   # if the rules are saved there")
	return c
}

// exposedCheck asks whether the audited ports accept new connections from
// anywhere outside Cloudflare and private networks.
func exposedCheck(in FirewallInput) checks.Check {
	c := checks.Check{ID: "firewall.origin_exposed", Details: map[string]any{}, Fix: []string{}}
	var open, unknown []string
	read := false
	for _, fam := range []firewall.Family{firewall.IPv4, firewall.IPv6} {
		if ruleset(in.FW, fam) == nil {
			continue
		}
		read = true
		all, cf := netip.MustParsePrefix("0.0.0.0/0"), in.Ranges.V4
		if fam == firewall.IPv6 {
			all, cf = netip.MustParsePrefix("::/0"), in.Ranges.V6
		}
		for _, port := range in.Ports {
			v, _ := evaluate(in.FW, fam, firewall.Query{Sources: []netip.Prefix{all}, DPort: port})
			for _, r := range v.Ranges {
				if r.Action != firewall.Accept && r.Action != firewall.Unknown {
					continue
				}
				if inside(r.Prefix, cf) || private(r.Prefix) {
					continue
				}
				s := fmt.Sprintf("port %d from %s (%s)", port, r.Prefix, r.Decision.Rule)
				if r.Action == firewall.Accept {
					open = append(open, s)
				} else {
					unknown = append(unknown, s)
				}
			}
		}
	}
	if !read {
		return checks.Skipped(c.ID, "no filter table could be read")
	}
	c.Details["open"] = head(open, 20)
	if len(unknown) > 0 {
		c.Details["unknown"] = head(unknown, 20)
	}
	restrict := fmt.Sprintf("origin-agent audit --ports %s --apply --restrict", firewall.PortList(in.Ports))
	switch {
	case len(open) > 0:
		c.Status = checks.Warn
		c.Summary = fmt.Sprintf("ports %s accept connections from outside Cloudflare (%s): the origin can be reached directly, bypassing Cloudflare", firewall.PortList(in.Ports), head(open, 1)[0])
		c.Fix = []string{restrict}
	case len(unknown) > 0:
		c.Status = checks.Warn
		c.Summary = "cannot tell whether non-Cloudflare sources may connect: " + unknown[0]
		c.Fix = []string{restrict}
	default:
		c.Status = checks.Pass
		c.Summary = fmt.Sprintf("ports %s accept only Cloudflare (and private) sources", firewall.PortList(in.Ports))
	}
	return c
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… and %d more", len(s)-n))
	}
	return s
}

// inside reports whether p lies entirely inside one of set.
func inside(p netip.Prefix, set []netip.Prefix) bool {
	for _, s := range set {
		if s.Addr().Is4() == p.Addr().Is4() && s.Bits() <= p.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// privateRanges are sources whose access does not bypass Cloudflare from
// the internet.
func privateRanges() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("::1/128"),
	}
}

func private(p netip.Prefix) bool { return inside(p, privateRanges()) }
