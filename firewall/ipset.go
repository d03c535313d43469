package firewall

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// IPSet is one set from `ipset save`. Only the address types hash:ip,
// hash:net and list:set are modelled; for other types (hash:ip,port,
// hash:net,iface…) Supported is false and a match on the set is "unknown".
type IPSet struct {
	Name      string
	Type      string
	Family    Family
	Prefixes  []netip.Prefix // entries; hash:ip entries are /32 or /128
	Members   []string       // list:set members
	Supported bool
	Reason    string // why the set is not supported
}

// ErrBadIPSet is wrapped by ParseIPSetSave errors.
var ErrBadIPSet = errors.New("invalid ipset save output")

// ParseIPSetSave reads `ipset save` output (create/add lines). Entries with
// the nomatch flag make the set unsupported (an exception inside a set needs
// longest-prefix semantics the evaluator does not model). hash:ip ranges
// ("10.0.0.1-10.0.0.9") and CIDR entries of hash:ip are expanded as prefixes.
func ParseIPSetSave(data []byte) (map[string]*IPSet, error) {
	sets := map[string]*IPSet{}
	for n, raw := range bytes.Split(data, []byte("\n")) {
		f := strings.Fields(string(raw))
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "create", "-N", "-exist":
			if len(f) < 3 {
				return nil, fmt.Errorf("%w: line %d: create without type", ErrBadIPSet, n+1)
			}
			s := &IPSet{Name: f[1], Type: f[2], Family: IPv4}
			for i := 3; i+1 < len(f); i++ {
				if f[i] == "family" && f[i+1] == "inet6" {
					s.Family = IPv6
				}
			}
			switch s.Type {
			case "hash:ip", "hash:net", "list:set":
				s.Supported = true
			default:
				s.Reason = "ipset type " + s.Type + " is not modelled"
			}
			sets[s.Name] = s
		case "add", "-A":
			if len(f) < 3 {
				return nil, fmt.Errorf("%w: line %d: add without entry", ErrBadIPSet, n+1)
			}
			s := sets[f[1]]
			if s == nil {
				return nil, fmt.Errorf("%w: line %d: add to undeclared set %q", ErrBadIPSet, n+1, truncate([]byte(f[1]), 40))
			}
			if !s.Supported {
				continue
			}
			for _, opt := range f[3:] {
				if opt == "nomatch" {
					s.Supported, s.Reason = false, "ipset "+s.Name+" has nomatch entries"
				}
			}
			if s.Type == "list:set" {
				s.Members = append(s.Members, f[2])
				continue
			}
			ps, err := parseSetEntry(f[2])
			if err != nil || (len(ps) > 0 && !s.Family.has(ps[0].Addr())) {
				s.Supported, s.Reason = false, fmt.Sprintf("ipset %s: entry %q not understood", s.Name, truncate([]byte(f[2]), 40))
				continue
			}
			s.Prefixes = append(s.Prefixes, ps...)
		default:
			return nil, fmt.Errorf("%w: line %d: unexpected %q", ErrBadIPSet, n+1, truncate([]byte(f[0]), 40))
		}
	}
	return sets, nil
}

func parseSetEntry(e string) ([]netip.Prefix, error) {
	if lo, hi, ok := strings.Cut(e, "-"); ok {
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || a.BitLen() != b.BitLen() || b.Less(a) {
			return nil, fmt.Errorf("range %q", e)
		}
		return rangePrefixes(a, b), nil
	}
	m, err := parseAddrs(e)
	if err != nil || len(m.Prefixes) != 1 {
		return nil, fmt.Errorf("entry %q", e)
	}
	return m.Prefixes, nil
}

// rangePrefixes covers [a, b] with the fewest prefixes.
func rangePrefixes(a, b netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for {
		bits := a.BitLen()
		// widest prefix starting at a that stays within b
		for bits > 0 {
			p := netip.PrefixFrom(a, bits-1)
			if p.Masked().Addr() != a || lastAddr(p).Compare(b) > 0 {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(a, bits)
		out = append(out, p)
		last := lastAddr(p)
		if last.Compare(b) >= 0 || len(out) > 256 {
			return out
		}
		a = last.Next()
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	p = p.Masked()
	if p.Addr().Is4() {
		a := p.Addr().As4()
		for i := p.Bits(); i < 32; i++ {
			a[i/8] |= 0x80 >> (i % 8)
		}
		return netip.AddrFrom4(a)
	}
	a := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(a)
}

// resolve returns the prefixes of set name (following list:set one level
// deep at most 8 times) or ok=false with the reason it cannot be used.
func resolveSet(sets map[string]*IPSet, name string, fam Family, depth int) ([]netip.Prefix, string) {
	s := sets[name]
	switch {
	case sets == nil:
		return nil, "ipset contents not available (run as root with ipset installed)"
	case s == nil:
		return nil, "ipset " + name + " not found"
	case !s.Supported:
		return nil, s.Reason
	case depth > 8:
		return nil, "ipset " + name + ": list:set nested too deep"
	}
	if s.Type != "list:set" {
		if s.Family != fam {
			return nil, "" // a set of the other family matches nothing here
		}
		return s.Prefixes, ""
	}
	var out []netip.Prefix
	for _, m := range s.Members {
		ps, reason := resolveSet(sets, m, fam, depth+1)
		if reason != "" {
			return nil, reason
		}
		out = append(out, ps...)
	}
	return out, ""
}
