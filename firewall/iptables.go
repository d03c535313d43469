package firewall

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrBadRuleset is wrapped by ParseIptables errors.
var ErrBadRuleset = errors.New("invalid iptables ruleset")

// ParseIptables reads the filter table from `iptables-save` (or
// `iptables-save -t filter`) or `iptables -S` output of family fam.
// Other tables of an iptables-save dump are skipped; comment lines are kept in
// Warnings when they are warnings and ignored otherwise. A rule whose options
// are not all understood is kept with those options in Rule.Unknown: the
// evaluator then treats it as "may match". Only lines that are not iptables
// syntax at all (and -A for an undeclared chain in iptables-save form) are
// errors.
func ParseIptables(data []byte, fam Family) (*Ruleset, error) {
	rs := &Ruleset{Family: fam, Chains: map[string]*Chain{}}
	table := "filter" // -S output has no table marker
	for n, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		lineNo := n + 1
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#"):
			if strings.HasPrefix(line, "# Warning") {
				rs.Warnings = append(rs.Warnings, line)
			}
			continue
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			continue
		case line == "COMMIT":
			continue
		}
		if table != "filter" {
			continue
		}
		if err := rs.parseLine(line); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadRuleset, lineNo, err)
		}
	}
	rs.resolveTargets()
	return rs, nil
}

// resolveTargets sets each -j target's kind once all chains are known.
func (rs *Ruleset) resolveTargets() {
	for _, c := range rs.Chains {
		for _, r := range c.Rules {
			r.Target.Kind = targetKind(r.Target, rs.Chains)
			if r.Target.Kind == TargetJump {
				r.Target.Chain = r.Target.Name
			}
		}
	}
}

func targetKind(t Target, chains map[string]*Chain) TargetKind {
	switch t.Name {
	case "":
		return TargetContinue // no -j: counters only
	case "ACCEPT":
		return TargetAccept
	case "DROP":
		return TargetDrop
	case "REJECT":
		return TargetReject
	case "RETURN":
		return TargetReturn
	case "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TRACE", "AUDIT", "CLASSIFY", "DSCP", "TOS", "SECMARK", "CONNSECMARK":
		return TargetContinue // non-terminating
	}
	if c, ok := chains[t.Name]; ok && !c.Builtin {
		if t.Kind == TargetGoto {
			return TargetGoto
		}
		return TargetJump
	}
	return TargetUnknown
}

func (rs *Ruleset) chain(name string) *Chain {
	c := rs.Chains[name]
	if c == nil {
		c = &Chain{Name: name}
		rs.Chains[name] = c
		rs.Order = append(rs.Order, name)
	}
	return c
}

func (rs *Ruleset) parseLine(line string) error {
	if line[0] == ':' { // :INPUT DROP [0:0]  or  :ufw-user-input - [0:0]
		f := strings.Fields(line[1:])
		if len(f) < 2 || f[0] == "" {
			return fmt.Errorf("chain declaration %q", truncate([]byte(line), 60))
		}
		return rs.declare(f[0], f[1])
	}
	if line[0] == '[' { // iptables-save -c: [pkts:bytes] -A …
		i := strings.IndexByte(line, ']')
		if i < 0 {
			return fmt.Errorf("counters %q", truncate([]byte(line), 60))
		}
		line = strings.TrimSpace(line[i+1:])
	}
	args, err := tokenize(line)
	if err != nil {
		return err
	}
	if len(args) < 2 {
		return fmt.Errorf("short line %q", truncate([]byte(line), 60))
	}
	switch args[0] {
	case "-P", "--policy":
		if len(args) < 3 {
			return fmt.Errorf("policy without target: %q", line)
		}
		return rs.declare(args[1], args[2])
	case "-N", "--new-chain":
		return rs.declare(args[1], "-")
	case "-A", "--append":
		c := rs.chain(args[1])
		r := parseRule(args[2:])
		r.Chain, r.Index, r.Text = c.Name, len(c.Rules)+1, line
		c.Rules = append(c.Rules, r)
		return nil
	}
	return fmt.Errorf("unexpected %q", truncate([]byte(args[0]), 40))
}

func (rs *Ruleset) declare(name, policy string) error {
	c := rs.chain(name)
	switch policy {
	case "-":
		c.Builtin, c.Policy = false, Target{}
	case "ACCEPT":
		c.Builtin, c.Policy = true, Target{Kind: TargetAccept, Name: policy}
	case "DROP":
		c.Builtin, c.Policy = true, Target{Kind: TargetDrop, Name: policy}
	default:
		return fmt.Errorf("chain %s: policy %q", name, truncate([]byte(policy), 20))
	}
	return nil
}

// tokenize splits like iptables-save quotes: double quotes group, backslash
// escapes the next character inside quotes.
func tokenize(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			quoted = !quoted
			in = true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", truncate([]byte(line), 60))
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// parseRule reads the options after "-A CHAIN". It never fails: what it does
// not understand goes to Rule.Unknown.
func parseRule(args []string) *Rule {
	r := &Rule{}
	module := ""
	neg := false
	unknown := func(s string) { r.Unknown = append(r.Unknown, s) }
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "!" {
			neg = true
			continue
		}
		val := func() (string, bool) { // next argument, old-style "--opt ! val" too
			if i+1 < len(args) && args[i+1] == "!" {
				neg = !neg
				i++
			}
			if i+1 >= len(args) {
				unknown(a + " without value")
				return "", false
			}
			i++
			return args[i], true
		}
		switch a {
		case "-s", "--source", "--src", "-d", "--destination", "--dst":
			v, ok := val()
			if !ok {
				break
			}
			m, err := parseAddrs(v)
			if err != nil {
				unknown(a + " " + v)
				break
			}
			m.Negate = neg
			if a == "-s" || a == "--source" || a == "--src" {
				r.Src = m
			} else {
				r.Dst = m
			}
		case "-p", "--protocol":
			if v, ok := val(); ok {
				r.Proto = ProtoMatch{Name: strings.ToLower(v), Negate: neg}
			}
		case "-i", "--in-interface":
			if v, ok := val(); ok {
				r.InIface = IfaceMatch{Name: v, Negate: neg}
			}
		case "-o", "--out-interface":
			if v, ok := val(); ok {
				r.OutIface = IfaceMatch{Name: v, Negate: neg}
			}
		case "-f", "--fragment":
			unknown(negText(neg) + a)
		case "-m", "--match":
			if v, ok := val(); ok {
				module = v
				if !knownModule(v) {
					unknown("-m " + v)
				}
			}
		case "-c", "--set-counters":
			i += 2
		case "-j", "--jump", "-g", "--goto":
			if v, ok := val(); ok {
				r.Target = Target{Name: v, Args: args[i+1:]}
				if a == "-g" || a == "--goto" {
					r.Target.Kind, r.Target.Chain = TargetGoto, v
				}
			}
			i = len(args)
		default:
			m := module
			if m == "" && (r.Proto.Name == "tcp" || r.Proto.Name == "udp") {
				m = r.Proto.Name // -p tcp loads the tcp match implicitly
			}
			i = r.moduleOption(m, args, i, neg)
		}
		neg = false
	}
	return r
}

func negText(neg bool) string {
	if neg {
		return "! "
	}
	return ""
}

func knownModule(m string) bool {
	switch m {
	case "tcp", "udp", "multiport", "conntrack", "state", "set", "comment",
		"addrtype", "icmp", "icmp6", "icmpv6":
		return true
	}
	return false
}

// moduleOption parses the option at args[i] for module and returns the index
// of its last argument.
func (r *Rule) moduleOption(module string, args []string, i int, neg bool) int {
	a := args[i]
	next := func() (string, bool) {
		if i+1 < len(args) {
			i++
			return args[i], true
		}
		return "", false
	}
	bad := func() int {
		r.Unknown = append(r.Unknown, negText(neg)+a)
		return i
	}
	switch module + " " + a {
	case "tcp --dport", "tcp --destination-port", "udp --dport", "udp --destination-port",
		"tcp --sport", "tcp --source-port", "udp --sport", "udp --source-port",
		"multiport --dports", "multiport --destination-ports", "multiport --sports",
		"multiport --source-ports", "multiport --ports":
		v, ok := next()
		if !ok {
			return bad()
		}
		pr, err := parsePorts(v, module == "multiport")
		if err != nil {
			r.Unknown = append(r.Unknown, a+" "+v)
			return i
		}
		m := PortMatch{Ranges: pr, Negate: neg, Either: a == "--ports"}
		if strings.Contains(a, "-s") || strings.Contains(a, "source") {
			r.SPorts = append(r.SPorts, m)
		} else {
			r.DPorts = append(r.DPorts, m)
		}
		return i
	case "tcp --syn":
		r.TCPFlags = &FlagsMatch{Mask: flagSYN | flagRST | flagACK | flagFIN, Comp: flagSYN, Negate: neg}
		return i
	case "tcp --tcp-flags":
		mv, ok1 := next()
		cv, ok2 := next()
		mask, err1 := parseFlags(mv)
		comp, err2 := parseFlags(cv)
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return bad()
		}
		r.TCPFlags = &FlagsMatch{Mask: mask, Comp: comp, Negate: neg}
		return i
	case "conntrack --ctstate", "state --state":
		v, ok := next()
		if !ok {
			return bad()
		}
		r.States = append(r.States, StateMatch{States: strings.Split(strings.ToUpper(v), ","), Negate: neg})
		return i
	case "set --match-set":
		name, ok1 := next()
		flags, ok2 := next()
		if !ok1 || !ok2 {
			return bad()
		}
		r.Sets = append(r.Sets, SetMatch{Name: name, Flags: strings.Split(flags, ","), Negate: neg})
		return i
	case "comment --comment":
		v, _ := next()
		r.Comment = v
		return i
	case "addrtype --src-type", "addrtype --dst-type":
		v, ok := next()
		if !ok {
			return bad()
		}
		r.AddrTypes = append(r.AddrTypes, AddrTypeMatch{Dst: a == "--dst-type", Types: strings.Split(strings.ToUpper(v), ","), Negate: neg})
		return i
	case "icmp --icmp-type", "icmp6 --icmpv6-type", "icmpv6 --icmpv6-type":
		next() // only ICMP packets match; -p decides for TCP
		return i
	}
	// Unknown option (of an unknown module, or an unknown option of a known
	// one): take its values up to the next option.
	start := i
	for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && args[i+1] != "!" {
		i++
	}
	if module == "" || knownModule(module) {
		r.Unknown = append(r.Unknown, negText(neg)+strings.Join(args[start:i+1], " "))
	}
	return i
}

func parseAddrs(v string) (AddrMatch, error) {
	var m AddrMatch
	for s := range strings.SplitSeq(v, ",") {
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
			if err != nil {
				// iptables accepts a dotted mask: 10.0.0.0/255.0.0.0
				p, err = dottedMask(s)
			}
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			return AddrMatch{}, fmt.Errorf("address %q: %w", s, err)
		}
		m.Prefixes = append(m.Prefixes, p.Masked())
	}
	return m, nil
}

func dottedMask(s string) (netip.Prefix, error) {
	addr, mask, _ := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || !m.Is4() || !a.Is4() {
		return netip.Prefix{}, fmt.Errorf("mask %q", mask)
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&0x80000000 != 0 {
		ones++
		v <<= 1
	}
	if v != 0 {
		return netip.Prefix{}, fmt.Errorf("non-contiguous mask %q", mask)
	}
	return netip.PrefixFrom(a, ones), nil
}

// parsePorts reads "443", "1000:2000", ":1024", "1024:" and, when list is
// true, comma-separated lists of those.
func parsePorts(v string, list bool) ([]PortRange, error) {
	parts := []string{v}
	if list {
		parts = strings.Split(v, ",")
	}
	out := make([]PortRange, 0, len(parts))
	for _, p := range parts {
		lo, hi, isRange := strings.Cut(p, ":")
		var r PortRange
		var err error
		if r.Lo, err = port(lo, 0); err != nil {
			return nil, err
		}
		r.Hi = r.Lo
		if isRange {
			if r.Hi, err = port(hi, 65535); err != nil {
				return nil, err
			}
		}
		if r.Lo > r.Hi {
			r.Lo, r.Hi = r.Hi, r.Lo // iptables swaps too
		}
		out = append(out, r)
	}
	return out, nil
}

func port(s string, empty uint16) (uint16, error) {
	if s == "" {
		return empty, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q", s)
	}
	return uint16(n), nil
}

// TCP flag bits.
const (
	flagFIN uint8 = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
	flagURG
)

func parseFlags(v string) (uint8, error) {
	var f uint8
	for s := range strings.SplitSeq(strings.ToUpper(v), ",") {
		switch s {
		case "FIN":
			f |= flagFIN
		case "SYN":
			f |= flagSYN
		case "RST":
			f |= flagRST
		case "PSH":
			f |= flagPSH
		case "ACK":
			f |= flagACK
		case "URG":
			f |= flagURG
		case "ALL":
			f |= 0x3f
		case "NONE":
		default:
			return 0, fmt.Errorf("tcp flag %q", s)
		}
	}
	return f, nil
}
