package checks

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/origin-agent/origin-agent/agent/correlate"

	"github.com/origin-agent/origin-agent/firewall"
)

// BansID is the id of the check for banned Cloudflare addresses.
const BansID = "firewall.bans_cloudflare"

// BansCheck fails when fail2ban, CrowdSec or any other rule drops or
// rejects some of Cloudflare's addresses on the audited ports: every
// visitor Cloudflare routes through a banned edge server gets 521
// (rejected) or 522 (dropped). It names each ban (tool, jail, chain or
// set, the addresses), and the fix is the exact unban command plus how to
// keep it from coming back. fw nil skips with reason.
func BansCheck(fw *firewall.Firewall, reason string, ranges firewall.Ranges, ports []uint16) Check {
	c := newCheck(BansID)
	if fw == nil {
		return Skipped(c.ID, reason)
	}
	if fw.V4 == nil && fw.V6 == nil && fw.Nft == nil {
		return Skipped(c.ID, "no firewall table could be read")
	}
	scan := firewall.FindBans(fw, ranges, ports)
	var bans []map[string]any
	var named []string
	tools := map[string]bool{}
	edge := map[int]bool{}
	for _, b := range scan.Bans {
		addrs := make([]string, len(b.Addrs))
		for i, a := range b.Addrs {
			addrs[i] = addrText(a)
		}
		status := 522
		if b.Action == firewall.Reject {
			status = 521
		}
		edge[status] = true
		d := map[string]any{"family": b.Family.String(), "chain": b.Chain, "rule": b.Rule, "addresses": addrs,
			"action": b.Action.String(), "ports": b.Ports, "edge_status": status}
		if b.Table != "" {
			d["table"] = b.Table
		}
		if b.Set != "" {
			d["set"] = b.Set
		}
		if b.Tool != "" {
			d["tool"] = b.Tool
			tools[b.Tool] = true
		}
		if b.Jail != "" {
			d["jail"] = b.Jail
		}
		bans = append(bans, d)
		named = append(named, banName(b, addrs))
		c.Fix = append(c.Fix, unbanCommands(b)...)
	}
	c.Details["bans"] = bans
	if len(scan.Unknown) > 0 {
		c.Details["unknown"] = scan.Unknown
	}
	ports2 := firewall.PortList(ports)
	switch {
	case len(bans) > 0:
		c.Status = Fail
		c.Cause = correlate.CauseFirewallBlocks // banned edge servers: 521/522 for their visitors
		shown := []string{}
		for s := range edge {
			shown = append(shown, fmt.Sprint(s))
		}
		if len(shown) == 2 {
			shown = []string{"521", "522"}
		}
		c.Summary = fmt.Sprintf("%s: visitors whose requests Cloudflare routes through those edge servers get %s", strings.Join(named, "; "), strings.Join(shown, "/"))
		c.Fix = append(c.Fix, prevention(tools, ranges)...)
	case len(scan.Unknown) > 0:
		c.Status = Warn
		c.Summary = "cannot tell whether these rules ban Cloudflare addresses: " + scan.Unknown[0]
	default:
		c.Status = Pass
		c.Summary = fmt.Sprintf("no fail2ban, CrowdSec or other rule drops Cloudflare addresses on ports %s", ports2)
	}
	return c
}

// addrText prints a host prefix as its address (what fail2ban and cscli
// take), a wider one as CIDR.
func addrText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func banName(b firewall.Ban, addrs []string) string {
	what := "a firewall rule"
	switch {
	case b.Tool == "fail2ban" && b.Jail != "":
		what = "fail2ban jail " + b.Jail
	case b.Tool == "crowdsec":
		what = "CrowdSec"
	}
	where := "chain " + b.Chain
	switch {
	case b.Set != "" && b.Table != "":
		where = "nft set " + b.Set + " in table " + b.Table
	case b.Set != "":
		where = "ipset " + b.Set
	case b.Table != "":
		where += " in nft table " + b.Table
	}
	return fmt.Sprintf("%s bans Cloudflare address %s (%s, %s)", what, strings.Join(addrs, ", "), where, strings.ToLower(b.Action.String()))
}

func unbanCommands(b firewall.Ban) []string {
	var out []string
	bin := "iptables"
	if b.Family == firewall.IPv6 {
		bin = "ip6tables"
	}
	for _, a := range b.Addrs {
		addr := addrText(a)
		switch {
		case b.Tool == "fail2ban" && b.Jail != "":
			out = append(out, fmt.Sprintf("fail2ban-client set %s unbanip %s", b.Jail, addr))
		case b.Tool == "crowdsec" && a.IsSingleIP():
			out = append(out, "cscli decisions delete --ip "+addr)
		case b.Tool == "crowdsec":
			out = append(out, "cscli decisions delete --range "+addr)
		case b.Set != "" && b.Table == "":
			out = append(out, fmt.Sprintf("ipset del %s %s", b.Set, addr))
		case b.Set != "":
			fam, table, _ := strings.Cut(b.Table, " ")
			out = append(out, fmt.Sprintf("nft delete element %s %s %s '{ %s }'", fam, table, b.Set, addr))
		}
	}
	if len(out) == 0 {
		// A hand-made -s rule: delete the rule itself.
		if b.Table == "" {
			out = append(out, bin+" "+strings.Replace(b.Rule, "-A ", "-D ", 1))
		} else {
			out = append(out, fmt.Sprintf("# nft table %s chain %s: delete the rule `%s` (nft -a list chain %s %s shows its handle)", b.Table, b.Chain, b.Rule, b.Table, b.Chain))
		}
	}
	return out
}

// prevention keeps the bans from coming back. The usual root cause is a
// web server that logs Cloudflare's address instead of the visitor's, so
// the banning tool reads its log and bans the edge.
func prevention(tools map[string]bool, ranges firewall.Ranges) []string {
	all := make([]string, 0, len(ranges.V4)+len(ranges.V6))
	for _, p := range ranges.All() {
		all = append(all, p.String())
	}
	out := []string{"# the banning tool saw Cloudflare's address in the access log: make the web server log the visitor's (see nginx.real_ip: set_real_ip_from + real_ip_header CF-Connecting-IP)"}
	if tools["fail2ban"] {
		out = append(out,
			"# never ban Cloudflare: in /etc/fail2ban/jail.local, section [DEFAULT]:",
			"ignoreip = 127.0.0.1/8 ::1 "+strings.Join(all, " "),
			"fail2ban-client reload")
	}
	if tools["crowdsec"] {
		var b strings.Builder
		b.WriteString(`printf '%s\n' 'name: local/cloudflare-whitelist' 'description: "never ban Cloudflare edge servers"' 'whitelist:' '  reason: "Cloudflare edge"' '  cidr:'`)
		for _, p := range all {
			fmt.Fprintf(&b, ` '    - "%s"'`, p)
		}
		b.WriteString(" > /etc/crowdsec/parsers/s02-enrich/cloudflare-whitelist.yaml")
		out = append(out, "# never ban Cloudflare: a CrowdSec whitelist", b.String(), "systemctl reload crowdsec")
	}
	if !tools["fail2ban"] && !tools["crowdsec"] {
		out = append(out, "# find what added the rule (a ban script, a blocklist) and exclude Cloudflare's ranges there: "+strings.Join(all, " "))
	}
	return out
}
