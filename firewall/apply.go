package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// How --apply changes the firewall, per family (iptables and ip6tables):
//
//   - Everything lives in the filter table chain OwnChain (ORIGIN-AGENT-CF):
//     one "-s RANGE -p tcp -m multiport --dports PORTS -j ACCEPT" per
//     Cloudflare range and, with Restrict, a final
//     "! -i lo -p tcp -m multiport --dports PORTS -m tcp --tcp-flags
//     FIN,SYN,RST,ACK SYN -j DROP" (loopback stays open for local health
//     checks) and, first of all, EstablishedSpec. Only new connections are
//     dropped, so a session already open on one of the ports (an SSH
//     session, a long download) is never cut: the drop matches only the SYN
//     that opens a connection, because a host that tracked no connection
//     before (no stateful rule yet) sees the next packet of an idle open
//     session as conntrack state NEW, and a DROP of NEW would cut it; the
//     ESTABLISHED rule still accepts what conntrack does track (and RELATED
//     ICMP errors) before anything else.
//   - INPUT gets exactly one rule, inserted at position 1:
//     "-p tcp -m multiport --dports PORTS -j ORIGIN-AGENT-CF". Packets the
//     chain does not accept (or drop, with Restrict) return to INPUT rule 2 and
//     meet the host's own rules as before.
//   - Idempotent: Plan compares the live chain and INPUT with what is wanted
//     and returns no steps when they agree.
//   - Atomic per family: when the chain content must change, the complete new
//     content is built in OwnChain+"-NEW" first, then one rule insertion (the
//     jump to the new chain at INPUT 1) switches every new packet over; only
//     then are the old jump and chain removed and the new chain renamed (a
//     rename keeps the jump pointing at it). No packet ever meets a half-built
//     chain. go-iptables has no iptables-restore, hence this scheme.
//   - Nothing else is touched: rules are only ever deleted from OwnChain,
//     OwnChain+"-NEW", or INPUT rules that jump to one of them, so Revert
//     leaves iptables-save exactly as it was before the first Apply.
//
// Under ufw (MANAGE_BUILTINS=no, the default) the chain and jump survive
// `ufw reload`, `ufw disable` and `ufw enable`, which only flush ufw-* chains;
// ufw may re-insert its own jumps above ours, which is harmless because ufw's
// chains RETURN what they do not decide. With MANAGE_BUILTINS=yes ufw flushes
// INPUT and the jump is lost. Under firewalld with its iptables backend,
// `firewall-cmd --reload` flushes every chain and the chain is lost; with the
// nftables backend (the default since 0.6) firewalld's own table still filters
// the packet after ours, so an ACCEPT here does not open a port firewalld
// closes: use the firewall-cmd fixes there. Nothing of this survives a reboot
// unless saved (netfilter-persistent save).

// NewChainSuffix names the chain Apply builds before swapping it in.
const NewChainSuffix = "-NEW"

// ErrApply is wrapped by every Apply and Revert error.
var ErrApply = errors.New("apply firewall rules")

// IPTables is the part of *iptables.IPTables (github.com/coreos/go-iptables)
// that Plan's steps use; tests substitute a recorder. Rule listings are in
// `iptables -S` form.
type IPTables interface {
	List(table, chain string) ([]string, error)
	ChainExists(table, chain string) (bool, error)
	NewChain(table, chain string) error
	Append(table, chain string, rulespec ...string) error
	Insert(table, chain string, pos int, rulespec ...string) error
	DeleteById(table, chain string, id int) error
	ClearAndDeleteChain(table, chain string) error
	RenameChain(table, oldChain, newChain string) error
}

// Want is what Apply should make of one family.
type Want struct {
	Family   Family
	Ranges   []netip.Prefix // Cloudflare ranges of Family
	Ports    []uint16       // audited ports, at most 15 (multiport's limit)
	Restrict bool           // drop other sources on Ports inside OwnChain
}

// Validate reports a Want that would produce a harmful or invalid chain.
func (w Want) Validate() error {
	if len(w.Ports) == 0 || len(w.Ports) > 15 {
		return fmt.Errorf("%w: need 1 to 15 ports, got %d", ErrApply, len(w.Ports))
	}
	if len(w.Ranges) == 0 {
		return fmt.Errorf("%w: no Cloudflare %s ranges", ErrApply, w.Family)
	}
	for _, p := range w.Ranges {
		if (w.Family == IPv4) != p.Addr().Is4() {
			return fmt.Errorf("%w: range %s is not %s", ErrApply, p, w.Family)
		}
	}
	return nil
}

// PortList renders ports for multiport: "80,443".
func PortList(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

// EstablishedSpec is the first rule of OwnChain with Restrict: packets of
// connections already open (and related ones, ICMP errors, FTP data) are
// accepted before the drop. Written as `iptables -S` prints it, so that Plan
// recognises it in the live chain.
var EstablishedSpec = []string{"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"}

// ChainSpecs returns the wanted rules of OwnChain, in order, as rulespecs.
func (w Want) ChainSpecs() [][]string {
	ports := PortList(w.Ports)
	var specs [][]string
	if w.Restrict {
		specs = append(specs, EstablishedSpec)
	}
	for _, p := range w.Ranges {
		specs = append(specs, []string{"-s", p.Masked().String(), "-p", "tcp", "-m", "multiport", "--dports", ports, "-j", "ACCEPT"})
	}
	if w.Restrict {
		specs = append(specs, []string{"!", "-i", "lo", "-p", "tcp", "-m", "multiport", "--dports", ports,
			"-m", "tcp", "--tcp-flags", "FIN,SYN,RST,ACK", "SYN", "-j", "DROP"})
	}
	return specs
}

// JumpSpec is the INPUT rule that sends the audited ports to chain.
func (w Want) JumpSpec(chain string) []string {
	return []string{"-p", "tcp", "-m", "multiport", "--dports", PortList(w.Ports), "-j", chain}
}

// State is the live part of the filter table Plan looks at, in `iptables -S`
// form: INPUT's rules ("-P INPUT …" and "-A INPUT …" lines) and the lines of
// OwnChain and its -NEW twin (nil when the chain does not exist).
type State struct {
	Input    []string
	Own, New []string
}

// ReadState lists INPUT, OwnChain and OwnChain-NEW.
func ReadState(ipt IPTables) (State, error) {
	var st State
	var err error
	if st.Input, err = ipt.List("filter", "INPUT"); err != nil {
		return st, fmt.Errorf("list INPUT: %w", lockHint(err))
	}
	for _, c := range []struct {
		name string
		dst  *[]string
	}{{OwnChain, &st.Own}, {OwnChain + NewChainSuffix, &st.New}} {
		ok, err := ipt.ChainExists("filter", c.name)
		if err != nil {
			return st, fmt.Errorf("look for chain %s: %w", c.name, lockHint(err))
		}
		if !ok {
			continue
		}
		lines, err := ipt.List("filter", c.name)
		if err != nil {
			return st, fmt.Errorf("list chain %s: %w", c.name, lockHint(err))
		}
		*c.dst = append([]string{}, lines...)
	}
	return st, nil
}

// StepOp is what a Step does.
type StepOp string

// Step operations.
const (
	OpNewChain    StepOp = "-N"
	OpAppend      StepOp = "-A"
	OpInsert      StepOp = "-I"
	OpDelete      StepOp = "-D" // by rule number
	OpDeleteChain StepOp = "-X" // flush, then delete
	OpRename      StepOp = "-E"
)

// Step is one change to the filter table.
type Step struct {
	Op    StepOp
	Chain string
	Pos   int      // -I position, -D rule number
	Spec  []string // -A/-I rulespec
	To    string   // -E new name
}

// String renders the step as an iptables argument list (without the binary):
// "-t filter -I INPUT 1 -p tcp …".
func (s Step) String() string {
	switch s.Op {
	case OpInsert:
		return fmt.Sprintf("-t filter -I %s %d %s", s.Chain, s.Pos, strings.Join(s.Spec, " "))
	case OpAppend:
		return fmt.Sprintf("-t filter -A %s %s", s.Chain, strings.Join(s.Spec, " "))
	case OpDelete:
		return fmt.Sprintf("-t filter -D %s %d", s.Chain, s.Pos)
	case OpDeleteChain:
		return fmt.Sprintf("-t filter -F %s && -t filter -X %s", s.Chain, s.Chain)
	case OpRename:
		return fmt.Sprintf("-t filter -E %s %s", s.Chain, s.To)
	default:
		return fmt.Sprintf("-t filter %s %s", s.Op, s.Chain)
	}
}

// Run performs the step.
func (s Step) Run(ipt IPTables) error {
	var err error
	switch s.Op {
	case OpNewChain:
		err = ipt.NewChain("filter", s.Chain)
	case OpAppend:
		err = ipt.Append("filter", s.Chain, s.Spec...)
	case OpInsert:
		err = ipt.Insert("filter", s.Chain, s.Pos, s.Spec...)
	case OpDelete:
		err = ipt.DeleteById("filter", s.Chain, s.Pos)
	case OpDeleteChain:
		err = ipt.ClearAndDeleteChain("filter", s.Chain)
	case OpRename:
		err = ipt.RenameChain("filter", s.Chain, s.To)
	default:
		err = fmt.Errorf("unknown step %q", s.Op)
	}
	if err != nil {
		return fmt.Errorf("iptables %s: %w", s, lockHint(err))
	}
	return nil
}

// Plan returns the steps that turn st into w; none when it already matches.
func Plan(st State, w Want) []Step {
	newChain := OwnChain + NewChainSuffix
	specs := w.ChainSpecs()
	jump := w.JumpSpec(OwnChain)
	jumps := jumpsTo(st.Input, OwnChain, newChain)

	var steps []Step
	if st.Own != nil && sameRules(st.Own, OwnChain, specs) && st.New == nil {
		// Content is right; make the jump the single first rule of INPUT.
		if len(jumps) == 1 && jumps[0].pos == 1 && jumps[0].line == "-A INPUT "+strings.Join(jump, " ") {
			return nil
		}
		steps = append(steps, Step{Op: OpInsert, Chain: "INPUT", Pos: 1, Spec: jump})
		for i := len(jumps) - 1; i >= 0; i-- {
			steps = append(steps, Step{Op: OpDelete, Chain: "INPUT", Pos: jumps[i].pos + 1})
		}
		return steps
	}
	// Rebuild under the -NEW name, switch with one insert, then clean up.
	// Jumps are deleted from the bottom so earlier rule numbers stay valid;
	// every number is +1 because of the insert before.
	if st.New != nil {
		var keep []jumpRule
		for i := len(jumps) - 1; i >= 0; i-- {
			if jumps[i].chain == newChain {
				steps = append(steps, Step{Op: OpDelete, Chain: "INPUT", Pos: jumps[i].pos})
			} else {
				keep = append([]jumpRule{jumps[i]}, keep...)
			}
		}
		// Renumber what is left after those deletions.
		for i := range keep {
			for _, j := range jumps {
				if j.chain == newChain && j.pos < keep[i].pos {
					keep[i].pos--
				}
			}
		}
		jumps = keep
		steps = append(steps, Step{Op: OpDeleteChain, Chain: newChain})
	}
	steps = append(steps, Step{Op: OpNewChain, Chain: newChain})
	for _, s := range specs {
		steps = append(steps, Step{Op: OpAppend, Chain: newChain, Spec: s})
	}
	steps = append(steps, Step{Op: OpInsert, Chain: "INPUT", Pos: 1, Spec: w.JumpSpec(newChain)})
	for i := len(jumps) - 1; i >= 0; i-- {
		steps = append(steps, Step{Op: OpDelete, Chain: "INPUT", Pos: jumps[i].pos + 1})
	}
	if st.Own != nil {
		steps = append(steps, Step{Op: OpDeleteChain, Chain: OwnChain})
	}
	steps = append(steps, Step{Op: OpRename, Chain: newChain, To: OwnChain})
	return steps
}

// PlanRevert returns the steps that remove every jump to OwnChain (or its
// -NEW twin) from INPUT and both chains; none when nothing of ours is there.
func PlanRevert(st State) []Step {
	var steps []Step
	jumps := jumpsTo(st.Input, OwnChain, OwnChain+NewChainSuffix)
	for i := len(jumps) - 1; i >= 0; i-- {
		steps = append(steps, Step{Op: OpDelete, Chain: "INPUT", Pos: jumps[i].pos})
	}
	if st.Own != nil {
		steps = append(steps, Step{Op: OpDeleteChain, Chain: OwnChain})
	}
	if st.New != nil {
		steps = append(steps, Step{Op: OpDeleteChain, Chain: OwnChain + NewChainSuffix})
	}
	return steps
}

// Apply brings one family to w and returns the steps it ran (none when the
// firewall already matched). It stops at the first failing step; running it
// again completes the change.
func Apply(ipt IPTables, w Want) ([]Step, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	st, err := ReadState(ipt)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrApply, w.Family, err)
	}
	return runSteps(ipt, w.Family, Plan(st, w))
}

// Revert removes what Apply added to one family and returns the steps run.
func Revert(ipt IPTables, fam Family) ([]Step, error) {
	st, err := ReadState(ipt)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrApply, fam, err)
	}
	return runSteps(ipt, fam, PlanRevert(st))
}

func runSteps(ipt IPTables, fam Family, steps []Step) ([]Step, error) {
	for i, s := range steps {
		if err := s.Run(ipt); err != nil {
			return steps[:i], fmt.Errorf("%w: %s: %w", ErrApply, fam, err)
		}
	}
	return steps, nil
}

type jumpRule struct {
	pos   int // 1-based rule number in INPUT
	chain string
	line  string
}

// jumpsTo finds the INPUT rules (-A lines, numbered as iptables numbers them)
// whose target is one of chains.
func jumpsTo(input []string, chains ...string) []jumpRule {
	var out []jumpRule
	n := 0
	for _, l := range input {
		if !strings.HasPrefix(l, "-A INPUT ") {
			continue
		}
		n++
		if t := jumpTarget(l); t != "" {
			for _, c := range chains {
				if t == c {
					out = append(out, jumpRule{pos: n, chain: c, line: l})
				}
			}
		}
	}
	return out
}

// sameRules reports whether the -A lines of chain equal specs in order.
func sameRules(lines []string, chain string, specs [][]string) bool {
	var got []string
	for _, l := range lines {
		if strings.HasPrefix(l, "-A "+chain+" ") {
			got = append(got, strings.TrimPrefix(l, "-A "+chain+" "))
		}
	}
	if len(got) != len(specs) {
		return false
	}
	for i, s := range specs {
		if got[i] != strings.Join(s, " ") {
			return false
		}
	}
	return true
}

var _ IPTables = (*iptables.IPTables)(nil)

// IPTables returns the go-iptables handle for fam that Apply and Revert use,
// with the same binary override and xtables lock timeout as Rules.
func (s *SystemLister) IPTables(fam Family) (IPTables, error) {
	return s.ipt(fam)
}
