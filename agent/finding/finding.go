// Package finding is what the agent ships: one JSON object per finding, the
// contract between the agent and central logging (schema
// "origin-agent/finding/v1" in DESIGN.md). Sinks, the spool and the report
// renderers share it.
package finding

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

// Schema is the value of the "schema" field.
const Schema = "origin-agent/finding/v1"

// Kind says where a finding comes from.
type Kind string

const (
	KindIncident Kind = "incident" // a burst of gateway statuses (correlator)
	KindCheck    Kind = "check"    // a periodic check turned bad or good again
	KindHealth   Kind = "health"   // the agent cannot use a source or probe (cause cannot_observe)
)

// Severity orders findings for people and alerting rules.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// State is where a finding is in its life. Incidents go opened → updated…
// → closed; checks go failing → resolved.
type State string

const (
	StateOpened   State = "opened"
	StateUpdated  State = "updated"
	StateClosed   State = "closed"
	StateFailing  State = "failing"
	StateResolved State = "resolved"
)

// Finding is one message to central logging: the incident fields of the
// analysis JSON plus host, id, kind and severity.
//
// ID is stable: the same input yields the same id, so a finding replayed
// after a crash (at-least-once delivery) can be de-duplicated by it.
// IncidentID ties the opened/updated/closed findings of one incident.
type Finding struct {
	Schema     string   `json:"schema"`
	ID         string   `json:"id"`
	IncidentID string   `json:"incident_id"`
	Kind       Kind     `json:"kind"`
	State      State    `json:"state"`
	Severity   Severity `json:"severity"`
	Host       string   `json:"host"`
	// Message is the one-line summary, for log UIs that show one field
	// (VictoriaLogs' _msg, Loki's line preview, Kibana's message column).
	// Empty: MarshalJSON derives it from Summary (see MessageOf).
	Message string `json:"message"`
	// Check is the check that produced a check finding (e.g. "listener.443").
	Check string `json:"check,omitempty"`
	correlate.Incident
	// Context is the host's state when the finding was made (memory, load,
	// pressure), when known.
	Context json.RawMessage `json:"context,omitempty"`
	// Related are the ids of findings this one may follow from: an
	// incident lists the php_fpm_pool_saturated early warnings of pools
	// that were saturated shortly before or during it.
	Related []string `json:"related,omitempty"`
}

// MarshalJSON writes the finding with its message filled in, so every
// finding that leaves the agent has one whoever built it.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	if f.Message == "" {
		f.Message = MessageOf(f)
	}
	return json.Marshal(plain(f))
}

// MessageOf is the one-line message of f: its summary with line breaks and
// runs of white space folded, else its cause and state.
func MessageOf(f Finding) string {
	if m := strings.Join(strings.Fields(f.Summary), " "); m != "" {
		return m
	}
	return strings.TrimSpace(string(f.Cause) + " " + string(f.State))
}

// FromIncident builds the finding for one correlator update. seq numbers the
// updates of one incident so that each has its own stable id.
func FromIncident(host string, u correlate.Update, seq int) Finding {
	st := StateOpened
	switch u.State {
	case correlate.Updated:
		st = StateUpdated
	case correlate.Closed:
		st = StateClosed
	}
	id := u.Incident.ID + "-" + string(st)
	if st == StateUpdated {
		id += "-" + strconv.Itoa(seq)
	}
	return Finding{
		Schema: Schema, ID: id, IncidentID: u.Incident.ID, Kind: KindIncident, State: st,
		Severity: SeverityOf(u.Incident.Cause), Host: host, Incident: u.Incident,
	}
}

// FromCheck builds a check finding: cause, summary and fix for check id,
// failing since `since` (the time it turned bad, which keys the id).
func FromCheck(host, check string, cause correlate.Cause, st State, since, now time.Time, summary, remediation string, ev []correlate.Evidence) Finding {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", host, check, cause, since.UnixNano())
	iid := strconv.FormatUint(h.Sum64(), 16)
	if ev == nil {
		ev = []correlate.Evidence{}
	}
	return Finding{
		Schema: Schema, ID: iid + "-" + string(st), IncidentID: iid, Kind: KindCheck, State: st,
		Severity: SeverityOf(cause), Host: host, Check: check,
		Incident: correlate.Incident{ID: iid, Start: since.UTC(), End: now.UTC(), Statuses: map[string]int{},
			Cause: cause, Confidence: 1, Summary: summary, Evidence: ev, Remediation: remediation,
			EdgeStatus: correlate.EdgeStatusOf(cause, nil), Scope: correlate.EmptyScope()},
	}
}

// SeverityOf ranks a cause: an origin that is down for everyone is
// critical, a partial or slow failure a warning.
func SeverityOf(c correlate.Cause) Severity {
	switch c {
	case correlate.CauseUpstreamDown, correlate.CauseOOMKill, correlate.CauseListenerDown,
		correlate.CauseFirewallBlocks, correlate.CauseTLSInvalid, correlate.CauseCloudflareStopped,
		correlate.CausePoolExhausted, correlate.CauseNoLiveUpstreams:
		return SeverityCritical
	case correlate.CauseApplicationError, correlate.CauseRateLimited:
		return SeverityInfo
	}
	return SeverityWarning
}
