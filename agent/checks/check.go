// Package checks holds the host checks that audit runs once and the live
// agent repeats: listeners, the TLS certificate on 443, nginx real_ip,
// proxy read timeouts and php-fpm max_children versus memory.
//
// Every check is a pure function of injected inputs (a parsed socket table,
// a config, a TLS dialer, measured memory) returning a Check, so it is tested
// on literal data; the few system reads sit in system.go behind small
// functions.
package checks

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

// Check is one result, the element of the audit/v1 "checks" array.
type Check struct {
	ID      string         `json:"id"`
	Status  Status         `json:"status"`
	Summary string         `json:"summary"`
	Details map[string]any `json:"details"`
	Fix     []string       `json:"fix"`
}

// Skipped builds a skip result with the reason as its summary.
func Skipped(id, reason string) Check {
	return Check{ID: id, Status: Skip, Summary: reason, Details: map[string]any{}, Fix: []string{}}
}

func newCheck(id string) Check {
	return Check{ID: id, Details: map[string]any{}, Fix: []string{}}
}
