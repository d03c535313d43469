package firewall

import (
	"net/netip"
	"slices"
	"strings"
)

// tri is the answer of one match for the queried packet.
type tri int

const (
	yes tri = iota
	no
	maybe
)

func (t tri) not(neg bool) tri {
	if !neg || t == maybe {
		return t
	}
	if t == yes {
		return no
	}
	return yes
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// match splits set into the parts r certainly matches, certainly does not
// match, and may match (with the reason).
func (e *evaluator) match(r *Rule, set []netip.Prefix) (y, n, m []netip.Prefix, why string) {
	t, why := e.matchScalar(r)
	if t == no {
		return nil, set, nil, ""
	}
	in := set
	if len(r.Src.Prefixes) > 0 {
		in = splitAddr(in, r.Src.Prefixes, r.Src.Negate)
	}
	for _, s := range r.Sets {
		if len(s.Flags) != 1 || s.Flags[0] != "src" {
			t, why = maybe, joinWhy(why, "ipset "+s.Name+" matched on "+strings.Join(s.Flags, ","))
			continue
		}
		ps, reason := resolveSet(e.rs.Sets, s.Name, e.rs.Family, 0)
		if reason != "" {
			t, why = maybe, joinWhy(why, reason)
			continue
		}
		in = splitAddr(in, ps, s.Negate)
	}
	out := subtract(set, in)
	if t == maybe {
		return nil, out, in, why
	}
	return in, out, nil, ""
}

// splitAddr returns the part of set inside ps (outside when neg).
func splitAddr(set, ps []netip.Prefix, neg bool) []netip.Prefix {
	if neg {
		return subtract(set, ps)
	}
	return intersect(set, ps)
}

func joinWhy(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// matchScalar decides every match that does not depend on the source
// address: the same answer for the whole queried range.
func (e *evaluator) matchScalar(r *Rule) (tri, string) {
	var why string
	res := yes
	if r.family != 0 && r.family != e.rs.Family {
		return no, ""
	}
	add := func(t tri, reason string) {
		switch {
		case t == no:
			res = no
		case t == maybe && res != no:
			res = maybe
			why = joinWhy(why, reason)
		}
	}
	if r.Proto.Name != "" {
		switch r.Proto.Name {
		case "tcp", "6", "all", "0":
			add(yes.not(r.Proto.Negate), "")
		default:
			add(no.not(r.Proto.Negate), "")
		}
	}
	if r.InIface.Name != "" {
		add(e.matchIface(r.InIface), "rule matches input interface "+negText(r.InIface.Negate)+r.InIface.Name+" and the interface Cloudflare traffic arrives on is not known")
	}
	if r.OutIface.Name != "" {
		add(maybe, "rule matches output interface "+r.OutIface.Name)
	}
	if len(r.Dst.Prefixes) > 0 {
		add(e.matchDst(r.Dst), "rule matches destination "+negText(r.Dst.Negate)+prefixList(r.Dst.Prefixes)+" and the host's address is not known")
	}
	for _, p := range r.DPorts {
		in := portIn(p.Ranges, e.q.DPort)
		switch {
		case p.Either && !p.Negate && !in:
			add(maybe, "rule matches source or destination port and the source port is not known")
		case p.Either && p.Negate && !in:
			add(maybe, "rule excludes source and destination ports and the source port is not known")
		default:
			add(boolTri(in).not(p.Negate), "")
		}
	}
	if len(r.SPorts) > 0 {
		add(maybe, "rule matches the source port, which is not known")
	}
	if f := r.TCPFlags; f != nil {
		add(boolTri(flagSYN&f.Mask == f.Comp).not(f.Negate), "")
	}
	for _, s := range r.States {
		add(boolTri(slices.Contains(s.States, "NEW")).not(s.Negate), "")
	}
	for _, a := range r.AddrTypes {
		var in bool
		if a.Dst {
			in = slices.Contains(a.Types, "LOCAL") || slices.Contains(a.Types, "UNICAST")
		} else {
			in = slices.Contains(a.Types, "UNICAST")
		}
		add(boolTri(in).not(a.Negate), "")
	}
	if len(r.Unknown) > 0 {
		add(maybe, "not understood: "+strings.Join(r.Unknown, " "))
	}
	return res, why
}

func (e *evaluator) matchIface(m IfaceMatch) tri {
	name := m.Name
	if e.q.InIface != "" {
		if base, ok := strings.CutSuffix(name, "+"); ok {
			return boolTri(strings.HasPrefix(e.q.InIface, base)).not(m.Negate)
		}
		return boolTri(e.q.InIface == name).not(m.Negate)
	}
	if name == "lo" {
		return no.not(m.Negate) // the query arrives on a non-loopback interface
	}
	if name == "+" {
		return yes.not(m.Negate)
	}
	return maybe
}

func (e *evaluator) matchDst(m AddrMatch) tri {
	if e.q.Dst.IsValid() {
		return boolTri(slices.ContainsFunc(m.Prefixes, func(p netip.Prefix) bool { return p.Contains(e.q.Dst) })).not(m.Negate)
	}
	all, none := false, true
	for _, p := range m.Prefixes {
		if p.Bits() == 0 {
			all = true
		}
		a := p.Addr()
		local := !(a.IsMulticast() || (a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255})))
		if local {
			none = false
		}
	}
	switch {
	case all:
		return yes.not(m.Negate)
	case none:
		return no.not(m.Negate) // multicast/broadcast only: never this host's unicast address
	}
	return maybe
}

func portIn(rs []PortRange, p uint16) bool {
	for _, r := range rs {
		if r.Lo <= p && p <= r.Hi {
			return true
		}
	}
	return false
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
