// Package correlate turns a time-ordered stream of parsed log events into
// incidents: bursts of gateway statuses (502/503/504), each with one named
// cause, the evidence lines for it and a fix.
//
// The correlator does no I/O and never reads the clock. Time comes from the
// events themselves and from Tick, so `analyze` (files, after the fact) and
// `run` (live tails) drive the same code and tests are deterministic.
package correlate

import (
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// Cause is a root-cause id from the DESIGN taxonomy. The strings are a
// public contract (JSON output, sinks, HTML data-cause attributes).
type Cause string

const (
	CausePoolExhausted     Cause = "php_fpm_pool_exhausted"
	CauseUpstreamDown      Cause = "upstream_down"
	CauseOOMKill           Cause = "oom_kill"
	CauseRequestTerminated Cause = "php_fpm_request_terminated"
	CauseUpstreamCrash     Cause = "upstream_crash"
	CausePermissionDenied  Cause = "upstream_permission_denied"
	CauseHeaderTooBig      Cause = "upstream_header_too_big"
	CauseUpstreamTimeout   Cause = "upstream_timeout"
	CauseInvalidResponse   Cause = "upstream_invalid_response"
	CauseNoLiveUpstreams   Cause = "no_live_upstreams"
	CauseWorkerConnections Cause = "worker_connections_exhausted"
	CauseApacheMaxWorkers  Cause = "apache_max_workers"
	CauseRateLimited       Cause = "rate_limited"
	CauseApplicationError  Cause = "application_error_status"
	CauseUnknown           Cause = "unknown"
	CauseListenerDown      Cause = "listener_down"
	CauseFirewallBlocks    Cause = "firewall_blocks_cloudflare"
	CauseTLSInvalid        Cause = "tls_certificate_invalid"
	CauseCloudflareStopped Cause = "cloudflare_traffic_stopped"
)

// Describe returns the cause in plain words for people.
func (c Cause) Describe() string {
	switch c {
	case CausePoolExhausted:
		return "php-fpm pool exhausted (all workers busy)"
	case CauseUpstreamDown:
		return "upstream down (nothing accepted the connection)"
	case CauseOOMKill:
		return "worker killed by the kernel OOM killer"
	case CauseRequestTerminated:
		return "php-fpm terminated slow requests (request_terminate_timeout)"
	case CauseUpstreamCrash:
		return "upstream worker crashed"
	case CausePermissionDenied:
		return "permission denied connecting to the upstream"
	case CauseHeaderTooBig:
		return "upstream response header larger than the proxy buffer"
	case CauseUpstreamTimeout:
		return "upstream too slow (proxy read timeout)"
	case CauseInvalidResponse:
		return "upstream sent an invalid response"
	case CauseNoLiveUpstreams:
		return "no live upstreams left in the upstream group"
	case CauseWorkerConnections:
		return "web server out of connections or file descriptors"
	case CauseApacheMaxWorkers:
		return "apache reached MaxRequestWorkers"
	case CauseRateLimited:
		return "requests rejected by rate limiting"
	case CauseApplicationError:
		return "the application itself answered with the error status"
	case CauseListenerDown:
		return "nothing listens on the web port"
	case CauseFirewallBlocks:
		return "firewall blocks Cloudflare"
	case CauseTLSInvalid:
		return "TLS certificate invalid"
	case CauseCloudflareStopped:
		return "traffic from Cloudflare stopped"
	}
	return "unknown: no corroborating signal in the logs read"
}

// Input is one parsed line handed to the correlator, with where it came from
// so that it can be cited as evidence. Text may alias a reusable buffer: the
// correlator copies what it keeps.
type Input struct {
	Type  parsers.Type
	Event parsers.Event
	Path  string
	Line  int64 // 1-based line number in Path, for citing; 0 when unknown
	// Offset is the byte offset of the line in Path, cited instead of Line
	// where that is unknown (the daemon resumed mid-file).
	Offset int64
	Text   []byte
}

// Evidence is one cited log line. Line is its 1-based number in Path;
// where that is unknown (the daemon resumed mid-file) Line is left out and
// Offset, in bytes, says where it is. Never a byte offset under "line".
type Evidence struct {
	Time   time.Time `json:"time"`
	Path   string    `json:"path"`
	Line   int64     `json:"line,omitempty"`
	Offset int64     `json:"offset,omitempty"`
	Text   string    `json:"text"`
}

// Incident is a burst of gateway statuses with its diagnosis.
type Incident struct {
	ID          string         `json:"id"`
	Start       time.Time      `json:"start"`
	End         time.Time      `json:"end"`
	Statuses    map[string]int `json:"statuses"`
	Requests    int            `json:"requests"`
	Cause       Cause          `json:"cause"`
	Confidence  float64        `json:"confidence"`
	Summary     string         `json:"summary"`
	Evidence    []Evidence     `json:"evidence"`
	Remediation string         `json:"remediation"`

	// Detail for reports; not part of the analysis/v1 JSON contract.
	Hosts    []Count `json:"-"`
	Paths    []Count `json:"-"`
	Closed   bool    `json:"-"`
	Gateways int     `json:"-"` // number of gateway statuses
}

// Count is a value with how often it was seen.
type Count struct {
	Value string
	N     int
}

// State says where an incident is in its life, for streaming consumers.
type State uint8

const (
	Opened  State = iota + 1 // first gateway statuses seen; cause is provisional
	Updated                  // cause or counts changed while open
	Closed                   // quiet gap passed: final counts and cause
)

func (s State) String() string {
	switch s {
	case Opened:
		return "opened"
	case Updated:
		return "updated"
	case Closed:
		return "closed"
	}
	return "state?"
}

// Update is what Tick and Flush report.
type Update struct {
	State    State
	Incident Incident
}

// Config tunes the correlator. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	// Gap is the quiet time without gateway statuses that ends an incident.
	Gap time.Duration
	// Settle is how long a gateway status waits for its proxy error line
	// (which may be logged a little later or come from another file) before
	// it is classified.
	Settle time.Duration
	// Lookback is how far before the first gateway status php-fpm and kernel
	// signals still count: an exhausted pool warns when it fills, its
	// requests time out up to the proxy read timeout later.
	Lookback time.Duration
	// Lookahead is how far after the last gateway status signals still count.
	Lookahead time.Duration
	// MatchWindow bounds how far apart a gateway status and its proxy error
	// may be logged (the access line is written when the request ends).
	MatchWindow time.Duration
	// SplitRun is how many consecutive gateway statuses of a different
	// failure family start a new incident without a quiet gap.
	SplitRun int
	// ProxyErrorsAsRequests makes proxy error lines stand for failed
	// requests, for when no access log is read at all.
	ProxyErrorsAsRequests bool
	// Emit controls whether Opened/Updated updates are produced (live agent)
	// or only Closed (analyze).
	Emit bool
}

// DefaultConfig returns the settings the DESIGN documents.
func DefaultConfig() Config {
	return Config{
		Gap:         60 * time.Second,
		Settle:      2 * time.Second,
		Lookback:    120 * time.Second,
		Lookahead:   15 * time.Second,
		MatchWindow: 3 * time.Second,
		SplitRun:    5,
	}
}
