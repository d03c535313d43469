package firewall

import "net/netip"

// Ruleset is the filter table of one address family, as iptables-save or
// iptables -S prints it. It is the model both the evaluator and a later
// --apply work on: chains keep their rules in order with the original text,
// so a rule can be cited, found again and deleted exactly.
type Ruleset struct {
	Family   Family
	Chains   map[string]*Chain
	Order    []string          // chain names in the order they were declared
	Sets     map[string]*IPSet // ipsets referenced by -m set; nil if unknown
	Warnings []string          // comment lines such as iptables-nft's legacy-tables warning
}

// Chain is a built-in chain (with a policy) or a user chain.
type Chain struct {
	Name    string
	Builtin bool
	Policy  Target // ACCEPT or DROP for built-in chains; TargetNone for user chains
	Rules   []*Rule
}

// TargetKind is what a rule does when it matches.
type TargetKind int

// Target kinds. Continue covers targets that let the packet go on (LOG,
// NFLOG, MARK…) and rules without -j.
const (
	TargetNone TargetKind = iota
	TargetAccept
	TargetDrop
	TargetReject
	TargetReturn
	TargetContinue
	TargetJump // -j user chain
	TargetGoto // -g user chain
	TargetUnknown
)

// Target is a rule's -j/-g.
type Target struct {
	Kind  TargetKind
	Name  string   // as written: ACCEPT, LOG, ufw-user-input…
	Chain string   // for TargetJump and TargetGoto
	Args  []string // target options, e.g. --reject-with icmp-port-unreachable
}

// Rule is one -A line.
type Rule struct {
	Chain string
	Index int    // 1-based position in its chain, as iptables -L --line-numbers
	Text  string // the line as read (without counters)

	Src, Dst  AddrMatch
	Proto     ProtoMatch
	InIface   IfaceMatch
	OutIface  IfaceMatch
	DPorts    []PortMatch // each must match (tcp/udp --dport, multiport --dports/--ports)
	SPorts    []PortMatch
	TCPFlags  *FlagsMatch
	States    []StateMatch
	Sets      []SetMatch
	AddrTypes []AddrTypeMatch
	Comment   string
	Unknown   []string // modules or options not understood: the rule may or may not match
	Target    Target

	family Family // nft: ip/ip6 matches restrict a rule of an inet table to one family
}

// AddrMatch is -s / -d. Empty Prefixes means no match on the address.
type AddrMatch struct {
	Prefixes []netip.Prefix
	Negate   bool
}

// ProtoMatch is -p. Name is "" when absent, else tcp, udp, icmp, all, or a number.
type ProtoMatch struct {
	Name   string
	Negate bool
}

// IfaceMatch is -i / -o; a trailing + is a wildcard.
type IfaceMatch struct {
	Name   string
	Negate bool
}

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

// PortMatch is one port option: --dport 443, --dport 1000:2000,
// --dports 80,443,8000:8100 or multiport --ports (Either: source or
// destination).
type PortMatch struct {
	Ranges []PortRange
	Negate bool
	Either bool
}

// FlagsMatch is --tcp-flags MASK COMP (--syn is SYN,RST,ACK,FIN SYN).
type FlagsMatch struct {
	Mask, Comp uint8
	Negate     bool
}

// StateMatch is -m conntrack --ctstate or -m state --state.
type StateMatch struct {
	States []string // upper case: NEW, ESTABLISHED…
	Negate bool
}

// SetMatch is -m set --match-set NAME FLAGS.
type SetMatch struct {
	Name   string
	Flags  []string // src, dst…
	Negate bool
}

// AddrTypeMatch is -m addrtype --src-type / --dst-type.
type AddrTypeMatch struct {
	Dst    bool // --dst-type, else --src-type
	Types  []string
	Negate bool
}
