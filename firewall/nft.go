package firewall

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ErrBadNft is wrapped by ParseNft errors.
var ErrBadNft = errors.New("invalid nft JSON")

// NftRuleset is what `nft -j list ruleset` says about input filtering.
type NftRuleset struct {
	Tables []string // "family name", e.g. "inet filter", "inet firewalld", "ip filter"
	// Input holds one entry per base chain with hook input, sorted by priority.
	Input []*NftBaseChain
}

// NftBaseChain is a base chain hooked at input, converted to the iptables
// model: Rules.Chains holds every chain of its table (names as in nft), the
// base chain is built-in with its policy.
type NftBaseChain struct {
	Family   string // ip, ip6, inet
	Table    string
	Name     string
	Priority int
	Rules    *Ruleset
}

// HasTable reports whether a table "family name" exists.
func (n *NftRuleset) HasTable(family, name string) bool {
	return slices.Contains(n.Tables, family+" "+name)
}

type nftDoc struct {
	Nftables []map[string]json.RawMessage `json:"nftables"`
}

type nftChain struct {
	Family string `json:"family"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	Hook   string `json:"hook"`
	Prio   int    `json:"prio"`
	Policy string `json:"policy"`
	Type   string `json:"type"`
}

type nftRule struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Chain  string            `json:"chain"`
	Handle int               `json:"handle"`
	Expr   []json.RawMessage `json:"expr"`
}

type nftSet struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Name   string            `json:"name"`
	Type   json.RawMessage   `json:"type"`
	Elem   []json.RawMessage `json:"elem"`
}

// ParseNft reads `nft -j list ruleset`. Rules are converted as far as the
// evaluator models them (ip/ip6 saddr, tcp dport, meta l4proto, ct state,
// iifname, verdicts; counter and log are no-ops); any other expression puts
// the rule in "may match" (Rule.Unknown) or its verdict to unknown.
func ParseNft(data []byte) (*NftRuleset, error) {
	var doc nftDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNft, err)
	}
	n := &NftRuleset{}
	tables := map[string]*Ruleset{} // "family table" → chains of that table
	get := func(fam, table string) *Ruleset {
		k := fam + " " + table
		rs := tables[k]
		if rs == nil {
			rs = &Ruleset{Family: IPv4, Chains: map[string]*Chain{}, Sets: map[string]*IPSet{}}
			tables[k] = rs
		}
		return rs
	}
	var rules []nftRule
	for _, obj := range doc.Nftables {
		switch {
		case obj["table"] != nil:
			var t struct{ Family, Name string }
			if err := json.Unmarshal(obj["table"], &t); err != nil {
				return nil, fmt.Errorf("%w: table: %w", ErrBadNft, err)
			}
			n.Tables = append(n.Tables, t.Family+" "+t.Name)
		case obj["chain"] != nil:
			var c nftChain
			if err := json.Unmarshal(obj["chain"], &c); err != nil {
				return nil, fmt.Errorf("%w: chain: %w", ErrBadNft, err)
			}
			rs := get(c.Family, c.Table)
			ch := rs.chain(c.Name)
			if c.Hook == "input" && (c.Type == "filter" || c.Type == "") {
				ch.Builtin = true
				ch.Policy = Target{Kind: TargetAccept, Name: "accept"}
				if c.Policy == "drop" {
					ch.Policy = Target{Kind: TargetDrop, Name: "drop"}
				}
				n.Input = append(n.Input, &NftBaseChain{Family: c.Family, Table: c.Table, Name: c.Name, Priority: c.Prio, Rules: rs})
			}
		case obj["set"] != nil:
			var s nftSet
			if err := json.Unmarshal(obj["set"], &s); err != nil {
				return nil, fmt.Errorf("%w: set: %w", ErrBadNft, err)
			}
			get(s.Family, s.Table).Sets[s.Name] = nftIPSet(s)
		case obj["rule"] != nil:
			var r nftRule
			if err := json.Unmarshal(obj["rule"], &r); err != nil {
				return nil, fmt.Errorf("%w: rule: %w", ErrBadNft, err)
			}
			rules = append(rules, r)
		}
	}
	for _, r := range rules {
		rs := get(r.Family, r.Table)
		c := rs.chain(r.Chain)
		rule := nftConvert(r.Expr)
		rule.Chain, rule.Index = c.Name, len(c.Rules)+1
		rule.Text = fmt.Sprintf("%s %s %s handle %d: %s", r.Family, r.Table, r.Chain, r.Handle, nftText(r.Expr))
		c.Rules = append(c.Rules, rule)
	}
	for _, rs := range tables {
		for _, c := range rs.Chains {
			for _, r := range c.Rules {
				if t := &r.Target; (t.Kind == TargetJump || t.Kind == TargetGoto) && rs.Chains[t.Chain] == nil {
					t.Kind = TargetUnknown
				}
			}
		}
	}
	slices.SortStableFunc(n.Input, func(a, b *NftBaseChain) int { return a.Priority - b.Priority })
	return n, nil
}

func nftText(expr []json.RawMessage) string {
	parts := make([]string, len(expr))
	for i, e := range expr {
		parts[i] = string(e)
	}
	return truncate([]byte(strings.Join(parts, " ")), 300)
}

func nftIPSet(s nftSet) *IPSet {
	var typ string
	_ = json.Unmarshal(s.Type, &typ)
	set := &IPSet{Name: s.Name, Type: typ, Supported: true}
	switch typ {
	case "ipv4_addr":
		set.Family = IPv4
	case "ipv6_addr":
		set.Family = IPv6
	default:
		return &IPSet{Name: s.Name, Type: typ, Reason: "nft set @" + s.Name + " of type " + typ + " is not modelled"}
	}
	for _, e := range s.Elem {
		ps, ok := nftPrefixes(e)
		if !ok {
			return &IPSet{Name: s.Name, Type: typ, Reason: "nft set @" + s.Name + ": element " + truncate(e, 40) + " not understood"}
		}
		set.Prefixes = append(set.Prefixes, ps...)
	}
	return set
}

// nftPrefixes reads an address value: "1.2.3.4", {"prefix":…}, {"range":[a,b]}
// or {"elem":{"val":…}}.
func nftPrefixes(raw json.RawMessage) ([]netip.Prefix, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		m, err := parseAddrs(s)
		return m.Prefixes, err == nil && !strings.HasPrefix(s, "@")
	}
	var v struct {
		Prefix *struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		} `json:"prefix"`
		Range []string `json:"range"`
		Elem  *struct {
			Val json.RawMessage `json:"val"`
		} `json:"elem"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	switch {
	case v.Prefix != nil:
		a, err := netip.ParseAddr(v.Prefix.Addr)
		if err != nil || v.Prefix.Len < 0 || v.Prefix.Len > a.BitLen() {
			return nil, false
		}
		return []netip.Prefix{netip.PrefixFrom(a, v.Prefix.Len).Masked()}, true
	case len(v.Range) == 2:
		ps, err := parseSetEntry(v.Range[0] + "-" + v.Range[1])
		return ps, err == nil
	case v.Elem != nil:
		return nftPrefixes(v.Elem.Val)
	}
	return nil, false
}

type nftMatch struct {
	Op    string          `json:"op"`
	Left  json.RawMessage `json:"left"`
	Right json.RawMessage `json:"right"`
}

type nftLeft struct {
	Payload *struct{ Protocol, Field string } `json:"payload"`
	Meta    *struct{ Key string }             `json:"meta"`
	Ct      *struct{ Key string }             `json:"ct"`
}

// nftConvert turns one rule's expressions into the iptables model.
func nftConvert(exprs []json.RawMessage) *Rule {
	r := &Rule{Target: Target{Kind: TargetContinue}}
	for _, raw := range exprs {
		var e map[string]json.RawMessage
		if json.Unmarshal(raw, &e) != nil || len(e) != 1 {
			r.Unknown = append(r.Unknown, truncate(raw, 60))
			continue
		}
		for k, v := range e {
			switch k {
			case "counter", "log":
			case "accept":
				r.Target = Target{Kind: TargetAccept, Name: k}
			case "drop":
				r.Target = Target{Kind: TargetDrop, Name: k}
			case "reject":
				r.Target = Target{Kind: TargetReject, Name: k}
			case "return":
				r.Target = Target{Kind: TargetReturn, Name: k}
			case "jump", "goto":
				var t struct{ Target string }
				_ = json.Unmarshal(v, &t)
				r.Target = Target{Kind: TargetJump, Name: k, Chain: t.Target}
				if k == "goto" {
					r.Target.Kind = TargetGoto
				}
			case "match":
				var m nftMatch
				if json.Unmarshal(v, &m) != nil || !r.nftMatch(m) {
					r.Unknown = append(r.Unknown, truncate(raw, 80))
				}
			default:
				if isVerdictLike(k) {
					r.Target = Target{Kind: TargetUnknown, Name: k}
				} else {
					r.Unknown = append(r.Unknown, truncate(raw, 80))
				}
			}
		}
	}
	return r
}

func isVerdictLike(k string) bool {
	switch k {
	case "queue", "continue", "dnat", "snat", "masquerade", "redirect", "synproxy", "vmap":
		return true
	}
	return false
}

// nftMatch converts one match; false means not modelled.
func (r *Rule) nftMatch(m nftMatch) bool {
	var neg bool
	switch m.Op {
	case "==", "in":
	case "!=":
		neg = true
	default:
		return false
	}
	var l nftLeft
	if json.Unmarshal(m.Left, &l) != nil {
		return false
	}
	switch {
	case l.Payload != nil && (l.Payload.Protocol == "ip" || l.Payload.Protocol == "ip6") && l.Payload.Field == "saddr":
		r.nftFamily(l.Payload.Protocol)
		var name string
		if json.Unmarshal(m.Right, &name) == nil && strings.HasPrefix(name, "@") {
			r.Sets = append(r.Sets, SetMatch{Name: name[1:], Flags: []string{"src"}, Negate: neg})
			return true
		}
		ps, ok := nftValues(m.Right, nftPrefixes)
		if !ok {
			return false
		}
		r.Src = AddrMatch{Prefixes: ps, Negate: neg}
		return true
	case l.Payload != nil && (l.Payload.Protocol == "tcp" || l.Payload.Protocol == "udp") && l.Payload.Field == "dport":
		r.Proto = ProtoMatch{Name: l.Payload.Protocol}
		ports, ok := nftValues(m.Right, nftPorts)
		if !ok {
			return false
		}
		r.DPorts = append(r.DPorts, PortMatch{Ranges: ports, Negate: neg})
		return true
	case l.Meta != nil && l.Meta.Key == "l4proto", l.Payload != nil && l.Payload.Field == "protocol" && l.Payload.Protocol == "ip", l.Payload != nil && l.Payload.Field == "nexthdr":
		names, ok := nftValues(m.Right, nftString)
		if !ok {
			return false
		}
		if slices.Contains(names, "tcp") != neg {
			return true // matches TCP: no restriction for the query
		}
		r.Proto = ProtoMatch{Name: "not-tcp"}
		return true
	case l.Meta != nil && l.Meta.Key == "nfproto":
		names, ok := nftValues(m.Right, nftString)
		if !ok || len(names) != 1 || neg {
			return false
		}
		r.nftFamily(map[string]string{"ipv4": "ip", "ipv6": "ip6"}[names[0]])
		return true
	case l.Ct != nil && l.Ct.Key == "state":
		states, ok := nftValues(m.Right, nftString)
		if !ok {
			return false
		}
		for i := range states {
			states[i] = strings.ToUpper(states[i])
		}
		r.States = append(r.States, StateMatch{States: states, Negate: neg})
		return true
	case l.Meta != nil && (l.Meta.Key == "iifname" || l.Meta.Key == "iif"):
		var name string
		if json.Unmarshal(m.Right, &name) != nil {
			return false
		}
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name = n + "+"
		}
		r.InIface = IfaceMatch{Name: name, Negate: neg}
		return true
	}
	return false
}

// nftFamily restricts the rule to one family; the evaluator then sees a
// rule for the other family as never matching.
func (r *Rule) nftFamily(proto string) {
	switch proto {
	case "ip":
		r.family = IPv4
	case "ip6":
		r.family = IPv6
	}
}

// nftValues reads a scalar, a list, or {"set":[…]} of values with conv.
func nftValues[T any](raw json.RawMessage, conv func(json.RawMessage) ([]T, bool)) ([]T, bool) {
	var set struct {
		Set []json.RawMessage `json:"set"`
	}
	var list []json.RawMessage
	items := []json.RawMessage{raw}
	if json.Unmarshal(raw, &set) == nil && set.Set != nil {
		items = set.Set
	} else if json.Unmarshal(raw, &list) == nil {
		items = list
	}
	var out []T
	for _, it := range items {
		v, ok := conv(it)
		if !ok {
			return nil, false
		}
		out = append(out, v...)
	}
	return out, len(out) > 0
}

func nftString(raw json.RawMessage) ([]string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	return []string{s}, true
}

func nftPorts(raw json.RawMessage) ([]PortRange, bool) {
	var p uint16
	if json.Unmarshal(raw, &p) == nil {
		return []PortRange{{p, p}}, true
	}
	var rg struct {
		Range [2]uint16 `json:"range"`
	}
	if json.Unmarshal(raw, &rg) == nil && rg.Range[0] <= rg.Range[1] && rg.Range[1] != 0 {
		return []PortRange{{rg.Range[0], rg.Range[1]}}, true
	}
	return nil, false
}

// EvaluateNft evaluates q against every base chain hooked at input whose
// family carries the query's addresses (ip or inet for IPv4, ip6 or inet for
// IPv6), in priority order: a range is accepted only when every chain
// accepts it; the first chain that drops, rejects or cannot decide decides.
// Without such chains the packet is accepted by nftables (Index 0, reason
// "no nftables input chain"), which says nothing about iptables-legacy.
func EvaluateNft(n *NftRuleset, fam Family, q Query) Verdict {
	var chains []*NftBaseChain
	for _, c := range n.Input {
		if c.Family == "inet" || (c.Family == "ip" && fam == IPv4) || (c.Family == "ip6" && fam == IPv6) {
			chains = append(chains, c)
		}
	}
	var v Verdict
	for _, src := range q.Sources {
		src = src.Masked()
		if !fam.has(src.Addr()) {
			v.Ranges = append(v.Ranges, collect(src, []outcome{{[]netip.Prefix{src}, Decision{Reason: "query is " + fam.String()}}})...)
			continue
		}
		pending := []outcome{{[]netip.Prefix{src}, Decision{Action: Accept, Reason: "no nftables input chain"}}}
		var final []outcome
		for _, c := range chains {
			var next []outcome
			for _, p := range pending {
				rs := *c.Rules
				rs.Family = fam
				e := &evaluator{rs: &rs, q: q, base: rs.Chains[c.Name]}
				for _, o := range e.eval(p.set, []frame{{e.base, 0}}) {
					if o.d.Action == Accept {
						next = append(next, o)
					} else {
						final = append(final, o)
					}
				}
			}
			pending = next
		}
		v.Ranges = append(v.Ranges, collect(src, append(final, pending...))...)
	}
	return v
}
