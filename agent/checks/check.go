// Package checks is the one check model of origin-agent: the host checks
// that `audit` runs once and the daemon repeats every [checks] interval
// (listeners, upstreams, the TLS certificate on 443, nginx real_ip, proxy
// read timeouts, php-fpm max_children versus memory, Cloudflare traffic),
// and the daemon's health checks of its own sight (logs it cannot read, a
// kernel source it cannot open).
//
// Every check is a pure function of injected inputs (a parsed socket table,
// a config, a TLS dialer, measured memory) returning a Check, so it is tested
// on literal data; the few system reads sit in system.go behind small
// functions. A Checker wraps those for the daemon.
package checks

import (
	"context"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

// Status is the outcome of a check.
type Status string

// Statuses, from best to worst for "would Cloudflare reach the site"; Skip
// means the check could not run or does not apply, with the reason in the
// summary.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// CauseCannotObserve is the cause of a health finding: the agent cannot use
// one of its sources or probes. It is never an incident's cause (the
// correlator does not know it), never critical.
const CauseCannotObserve correlate.Cause = "cannot_observe"

// Check is one result: the element of the audit/v1 "checks" array, and the
// state of one checked thing that the daemon turns into findings.
type Check struct {
	ID      string         `json:"id"`
	Status  Status         `json:"status"`
	Summary string         `json:"summary"`
	Details map[string]any `json:"details"`
	Fix     []string       `json:"fix"`

	// Cause is what a Fail (or a Warn worth a finding) means for the
	// daemon: the cause of its check finding, or CauseCannotObserve for a
	// health finding. A result without a cause is audit-only: the daemon
	// reports nothing for it. It is not part of the audit/v1 JSON.
	Cause correlate.Cause `json:"-"`
	// Evidence backs a daemon finding, when there is any.
	Evidence []correlate.Evidence `json:"-"`
}

// Checker is a check the daemon repeats. Run returns the current state of
// each thing it checks (one Check per id); the daemon turns changes into
// findings (see Check.Reported).
type Checker interface {
	Name() string
	Run(ctx context.Context) []Check
}

// Report says what the daemon makes of c.
type Report int

const (
	ReportNothing Report = iota // skip, or a result without a cause: the state stays as it was
	ReportGood                  // pass: a failing check is resolved
	ReportBad                   // fail or warn with a cause: the check is failing
)

// Reported classifies c for the daemon.
func (c Check) Reported() Report {
	switch {
	case c.Status == Pass:
		return ReportGood
	case (c.Status == Fail || c.Status == Warn) && c.Cause != "":
		return ReportBad
	}
	return ReportNothing
}

// Remediation is the fix as one text, for a finding.
func (c Check) Remediation() string {
	s := ""
	for i, f := range c.Fix {
		if i > 0 {
			s += "\n"
		}
		s += f
	}
	return s
}

// Skipped builds a skip result with the reason as its summary.
func Skipped(id, reason string) Check {
	return Check{ID: id, Status: Skip, Summary: reason, Details: map[string]any{}, Fix: []string{}}
}

// Passed builds a pass result.
func Passed(id, summary string) Check {
	return Check{ID: id, Status: Pass, Summary: summary, Details: map[string]any{}, Fix: []string{}}
}

func newCheck(id string) Check {
	return Check{ID: id, Details: map[string]any{}, Fix: []string{}}
}
