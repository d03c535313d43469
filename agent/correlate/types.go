// Package correlate turns a time-ordered stream of parsed log events into
// incidents: bursts of gateway statuses (502/503/504), each with one named
// cause, the evidence lines for it and a fix.
//
// The correlator does no I/O and never reads the clock. Time comes from the
// events themselves and from Tick, so `analyze` (files, after the fact) and
// `run` (live tails) drive the same code and tests are deterministic.
package correlate

import (
	"strconv"
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
	CauseCloudflareTimeout Cause = "cloudflare_timeout"
	CauseWebServerCrash    Cause = "web_server_crash"
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
	case CauseCloudflareTimeout:
		return "the origin answered later than Cloudflare's 100 s proxy read timeout (visitors saw 524)"
	case CauseWebServerCrash:
		return "the web server's own worker process crashed mid-request (visitors saw 520)"
	case CauseListenerDown:
		return "nothing listens on the web port"
	case CauseFirewallBlocks:
		return "firewall blocks Cloudflare"
	case CauseTLSInvalid:
		return "TLS certificate invalid"
	case CauseCloudflareStopped:
		return "traffic from Cloudflare stopped"
	case CausePoolSaturated:
		return "early warning: a php-fpm pool reached pm.max_children (504s may follow)"
	case "cannot_observe":
		return "the agent cannot read a log, socket or kernel source it needs (a health finding, never an incident)"
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
	// Site is the server_name / ServerName whose access log this is, when
	// the configs read say so (one server block per log); empty: the
	// log's file name stands for the site.
	Site string
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
	// EdgeStatus is what Cloudflare's visitors were shown: the origin's
	// 502/503/504 pass through; a crash is 520, a slow origin 524…
	EdgeStatus []int `json:"edge_status"`
	// Scope says where it happened.
	Scope Scope `json:"scope"`

	// Detail for reports; not part of the analysis/v1 JSON contract.
	Hosts    []Count `json:"-"`
	Paths    []Count `json:"-"`
	Closed   bool    `json:"-"`
	Gateways int     `json:"-"` // number of gateway statuses
}

// Scope is where an incident happened, from the logs and configs read.
// Lists are empty (never null) where unknown.
type Scope struct {
	Sites     []string    `json:"sites"`     // server_name / ServerName, else the access log's file name
	Pools     []string    `json:"pools"`     // php-fpm pools
	Upstreams []string    `json:"upstreams"` // the proxy's upstream addresses
	Paths     []PathCount `json:"paths"`     // the most affected request paths, at most 5
}

// PathCount is a request path and how many affected requests asked for it.
type PathCount struct {
	Path  string `json:"path"`
	Count int    `json:"count"`
}

// EmptyScope is a Scope with empty lists.
func EmptyScope() Scope {
	return Scope{Sites: []string{}, Pools: []string{}, Upstreams: []string{}, Paths: []PathCount{}}
}

// EdgeStatusOf is what Cloudflare showed visitors for an incident of cause c
// with the origin statuses given ("502": n…): the origin's own 502/503/504
// pass through (branded); what never reached the access log has Cloudflare's
// own 52x.
func EdgeStatusOf(c Cause, statuses map[string]int) []int {
	out := []int{}
	switch c {
	case CauseWebServerCrash:
		out = append(out, 520)
	case CauseCloudflareTimeout:
		out = append(out, 524)
	case CauseListenerDown:
		return append(out, 521)
	case CauseFirewallBlocks:
		return append(out, 521, 522)
	case CauseTLSInvalid:
		return append(out, 525, 526)
	}
	for _, s := range []int{502, 503, 504} {
		if statuses[strconv.Itoa(s)] > 0 {
			out = append(out, s)
		}
	}
	if c == CauseWorkerConnections && len(out) == 0 {
		// connections nginx could not take were closed unanswered
		out = append(out, 520)
	}
	return out
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
	// Pools maps a php-fpm pool's listen address, as the proxy names its
	// upstream ("unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000"), to the
	// pool's name, for the incidents' scope.
	Pools map[string]string
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
