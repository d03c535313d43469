package firewall

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Action is the fate of a packet. The zero value is Unknown, so a verdict
// that was never decided can never read as Accept.
type Action int

// Actions.
const (
	Unknown Action = iota
	Accept
	Drop
	Reject
)

// String returns "unknown", "accepted", "dropped" or "rejected".
func (a Action) String() string {
	switch a {
	case Accept:
		return "accepted"
	case Drop:
		return "dropped"
	case Reject:
		return "rejected"
	}
	return "unknown"
}

// Query is the packet the audit asks about: a new TCP connection (SYN,
// conntrack state NEW) from every address of Sources to DPort on this host,
// arriving on a non-loopback interface.
type Query struct {
	Sources []netip.Prefix // e.g. the Cloudflare ranges of the ruleset's family
	DPort   uint16         // 80 or 443
	// InIface is the interface the traffic arrives on; "" means not known, and
	// then a rule on a specific interface (other than lo) may or may not match.
	InIface string
	// Dst is the host's address the traffic is sent to; zero means not known.
	Dst netip.Addr
	// Chain is the built-in chain to start in; "" means INPUT.
	Chain string
}

// Decision says what happened to a range and which rule decided it.
type Decision struct {
	Action Action
	Chain  string // chain of the deciding rule (or of the policy)
	Index  int    // 1-based rule index; 0 for a chain policy or a global reason
	Rule   string // the rule text, or "-P INPUT DROP"
	Reason string // for Unknown: what was not understood; for policies: "INPUT policy"
}

// RangeVerdict is the decision for one part of one queried range.
type RangeVerdict struct {
	Source netip.Prefix // the queried range
	Prefix netip.Prefix // the part of it this decision covers
	Decision
}

// String renders e.g. "131.0.72.0/22: dropped by INPUT policy".
func (v RangeVerdict) String() string {
	var b strings.Builder
	b.WriteString(v.Prefix.String())
	b.WriteString(": ")
	b.WriteString(v.Action.String())
	switch {
	case v.Index == 0 && v.Reason != "" && v.Action != Unknown:
		b.WriteString(" by " + v.Reason)
	case v.Index > 0:
		fmt.Fprintf(&b, " by %s rule %d: %s", v.Chain, v.Index, v.Rule)
	}
	if v.Action == Unknown && v.Reason != "" {
		b.WriteString(" (" + v.Reason + ")")
	}
	return b.String()
}

// Verdict is the per-range coverage for a Query: the parts of every queried
// range, each with its decision, in query order and then address order.
type Verdict struct {
	Ranges []RangeVerdict
}

// Of returns the verdicts for the queried range src.
func (v Verdict) Of(src netip.Prefix) []RangeVerdict {
	var out []RangeVerdict
	for _, r := range v.Ranges {
		if r.Source == src {
			out = append(out, r)
		}
	}
	return out
}

// Lines renders every range verdict on its own line.
func (v Verdict) Lines() []string {
	out := make([]string, len(v.Ranges))
	for i, r := range v.Ranges {
		out[i] = r.String()
	}
	return out
}

// maxSteps bounds the work of one evaluation; rulesets that need more (deep
// chains of "may match" rules) give Unknown rather than a slow audit.
const maxSteps = 200000

// Evaluate follows q through rs from q.Chain (INPUT) and returns the decision
// for every part of every queried range. It is sound: Accept is returned
// only when every rule on the path was understood; a rule that may or may
// not match (unknown module, interface, rate limit) is followed both ways and
// the range is Unknown unless both ways agree; an unknown target, a jump to a
// missing chain, a loop, or a source of the other family is Unknown, with the
// rule shown. Sources not of rs.Family are Unknown.
func Evaluate(rs *Ruleset, q Query) Verdict {
	var v Verdict
	name := q.Chain
	if name == "" {
		name = "INPUT"
	}
	base := rs.Chains[name]
	for _, src := range q.Sources {
		src = src.Masked()
		var outs []outcome
		switch {
		case !rs.Family.has(src.Addr()):
			outs = []outcome{{[]netip.Prefix{src}, Decision{Reason: "ruleset is " + rs.Family.String()}}}
		case base == nil || !base.Builtin:
			outs = []outcome{{[]netip.Prefix{src}, Decision{Chain: name, Reason: "no built-in chain " + name}}}
		default:
			e := &evaluator{rs: rs, q: q, base: base}
			outs = e.eval([]netip.Prefix{src}, []frame{{base, 0}})
		}
		v.Ranges = append(v.Ranges, collect(src, outs)...)
	}
	return v
}

type outcome struct {
	set []netip.Prefix
	d   Decision
}

type frame struct {
	chain *Chain
	idx   int
}

type evaluator struct {
	rs    *Ruleset
	q     Query
	base  *Chain
	steps int
}

func (e *evaluator) policy(set []netip.Prefix) []outcome {
	d := Decision{Chain: e.base.Name, Rule: "-P " + e.base.Name + " " + e.base.Policy.Name, Reason: e.base.Name + " policy"}
	switch e.base.Policy.Kind {
	case TargetAccept:
		d.Action = Accept
	case TargetDrop:
		d.Action = Drop
	}
	return []outcome{{set, d}}
}

func (e *evaluator) eval(set []netip.Prefix, stack []frame) []outcome {
	if len(set) == 0 {
		return nil
	}
	e.steps++
	if e.steps > maxSteps {
		return []outcome{{set, Decision{Chain: stack[len(stack)-1].chain.Name, Reason: "ruleset too complex to evaluate"}}}
	}
	top := stack[len(stack)-1]
	if top.idx >= len(top.chain.Rules) {
		if len(stack) == 1 {
			return e.policy(set)
		}
		return e.eval(set, stack[:len(stack)-1])
	}
	r := top.chain.Rules[top.idx]
	next := make([]frame, len(stack))
	copy(next, stack)
	next[len(next)-1].idx++

	yes, no, maybe, why := e.match(r, set)
	out := e.eval(no, next)
	out = append(out, e.apply(r, yes, next)...)
	if len(maybe) > 0 {
		if r.Target.Kind == TargetContinue {
			return append(out, e.eval(maybe, next)...)
		}
		out = append(out, merge(e.apply(r, maybe, next), e.eval(maybe, next), r, why)...)
	}
	return out
}

func ruleDecision(r *Rule, a Action, reason string) Decision {
	return Decision{Action: a, Chain: r.Chain, Index: r.Index, Rule: r.Text, Reason: reason}
}

// apply runs r's target on set; next is the stack after r.
func (e *evaluator) apply(r *Rule, set []netip.Prefix, next []frame) []outcome {
	if len(set) == 0 {
		return nil
	}
	t := r.Target
	switch t.Kind {
	case TargetAccept:
		return []outcome{{set, ruleDecision(r, Accept, "")}}
	case TargetDrop:
		return []outcome{{set, ruleDecision(r, Drop, "")}}
	case TargetReject:
		return []outcome{{set, ruleDecision(r, Reject, "")}}
	case TargetContinue:
		return e.eval(set, next)
	case TargetReturn:
		if len(next) == 1 {
			return e.policy(set)
		}
		return e.eval(set, next[:len(next)-1])
	case TargetJump, TargetGoto:
		c := e.rs.Chains[t.Chain]
		if c == nil || c.Builtin {
			return []outcome{{set, ruleDecision(r, Unknown, "target chain "+t.Chain+" not found")}}
		}
		for _, f := range next {
			if f.chain == c {
				return []outcome{{set, ruleDecision(r, Unknown, "loop: chain "+c.Name+" is already being evaluated")}}
			}
		}
		if t.Kind == TargetGoto {
			stack := slices.Clone(next)
			stack[len(stack)-1] = frame{c, 0}
			return e.eval(set, stack)
		}
		return e.eval(set, append(slices.Clone(next), frame{c, 0}))
	}
	return []outcome{{set, ruleDecision(r, Unknown, "target "+t.Name+" not understood")}}
}

// merge combines the two ways of a rule that may or may not match: where
// both give the same known action the range has that fate (cited by the
// path where the rule did not match); elsewhere it is Unknown at r.
func merge(taken, notTaken []outcome, r *Rule, why string) []outcome {
	var out []outcome
	for _, a := range taken {
		for _, b := range notTaken {
			both := intersect(a.set, b.set)
			if len(both) == 0 {
				continue
			}
			if a.d.Action == b.d.Action && a.d.Action != Unknown {
				out = append(out, outcome{both, b.d})
				continue
			}
			reason := fmt.Sprintf("%s; if it matches: %s, if not: %s", why, a.d.Action, b.d.Action)
			if a.d.Action == Unknown && a.d.Reason != "" {
				reason += " (" + a.d.Reason + ")"
			}
			out = append(out, outcome{both, ruleDecision(r, Unknown, reason)})
		}
	}
	return out
}

// collect turns outcomes into sorted, merged range verdicts for src.
func collect(src netip.Prefix, outs []outcome) []RangeVerdict {
	var groups []outcome
	for _, o := range outs {
		i := slices.IndexFunc(groups, func(g outcome) bool { return g.d == o.d })
		if i < 0 {
			groups = append(groups, outcome{slices.Clone(o.set), o.d})
			continue
		}
		groups[i].set = append(groups[i].set, o.set...)
	}
	var out []RangeVerdict
	for _, g := range groups {
		for _, p := range normalize(g.set) {
			out = append(out, RangeVerdict{Source: src, Prefix: p, Decision: g.d})
		}
	}
	slices.SortFunc(out, func(a, b RangeVerdict) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}
