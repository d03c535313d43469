package firewall

import (
	"net/netip"
	"slices"
)

// Prefix-set arithmetic used by the evaluator. A set is a slice of disjoint,
// masked prefixes of one family. Every match the evaluator splits on (-s,
// ipset, nft saddr) is itself a list of prefixes, so intersection and
// difference of prefixes suffice and results stay in CIDR form, which is what
// the audit reports.

// intersect returns the parts of set that lie inside any of by.
func intersect(set, by []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range set {
		for _, b := range by {
			if !a.Overlaps(b) {
				continue
			}
			if a.Bits() >= b.Bits() {
				out = append(out, a) // a inside b
				break
			}
			out = append(out, b) // b inside a
		}
	}
	return normalize(out)
}

// subtract returns the parts of set outside every prefix of by.
func subtract(set, by []netip.Prefix) []netip.Prefix {
	cur := slices.Clone(set)
	for _, b := range by {
		var next []netip.Prefix
		for _, a := range cur {
			next = append(next, subtractOne(a, b)...)
		}
		cur = next
	}
	return cur
}

// subtractOne returns a \ b as prefixes.
func subtractOne(a, b netip.Prefix) []netip.Prefix {
	if !a.Overlaps(b) {
		return []netip.Prefix{a}
	}
	if b.Bits() <= a.Bits() {
		return nil // b covers a
	}
	// Walk from a down to b; at each level keep the half that does not hold b.
	out := make([]netip.Prefix, 0, b.Bits()-a.Bits())
	for bits := a.Bits() + 1; bits <= b.Bits(); bits++ {
		inner := netip.PrefixFrom(b.Addr(), bits).Masked()
		out = append(out, sibling(inner))
	}
	return out
}

// sibling returns the other half of p's parent prefix.
func sibling(p netip.Prefix) netip.Prefix {
	bits := p.Bits()
	if p.Addr().Is4() {
		a := p.Addr().As4()
		a[(bits-1)/8] ^= 0x80 >> ((bits - 1) % 8)
		return netip.PrefixFrom(netip.AddrFrom4(a), bits)
	}
	a := p.Addr().As16()
	a[(bits-1)/8] ^= 0x80 >> ((bits - 1) % 8)
	return netip.PrefixFrom(netip.AddrFrom16(a), bits)
}

// normalize sorts, removes prefixes covered by others and merges siblings.
func normalize(set []netip.Prefix) []netip.Prefix {
	if len(set) < 2 {
		return set
	}
	slices.SortFunc(set, comparePrefix)
	out := set[:0]
	for _, p := range set {
		if n := len(out); n > 0 && out[n-1].Overlaps(p) {
			continue // sorted by address then width: out[n-1] covers p
		}
		out = append(out, p)
		// merge siblings bottom-up
		for n := len(out); n >= 2; n = len(out) {
			x, y := out[n-2], out[n-1]
			if x.Bits() != y.Bits() || x.Bits() == 0 || sibling(x) != y {
				break
			}
			out = append(out[:n-2], netip.PrefixFrom(x.Addr(), x.Bits()-1).Masked())
		}
	}
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// overlapsAny reports whether p overlaps some prefix of set.
func overlapsAny(p netip.Prefix, set []netip.Prefix) bool {
	for _, s := range set {
		if s.Overlaps(p) {
			return true
		}
	}
	return false
}
