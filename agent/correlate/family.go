package correlate

import "github.com/origin-agent/origin-agent/parsers"

// family is what a proxy error says happened to one request. Several message
// shapes share a family because the proxy cannot tell their causes apart (a
// reset by peer is an OOM kill, a terminated request or a crash alike).
type family uint8

const (
	famNone    family = iota // no proxy error for the request
	famDown                  // connection refused, socket missing: nothing listens
	famPool                  // connect EAGAIN: listen backlog full, every worker busy
	famTimeout               // upstream timed out
	famReset                 // upstream closed or reset the connection mid-request
	famHeaderBig
	famInvalid
	famNoLive
	famPerm
	famConns // worker_connections, file descriptors
	famLimit // limit_req / limit_conn
	// Failures that leave no gateway status in the access log.
	famEdgeTimeout // 499 after Cloudflare's 100 s proxy read timeout (its visitors saw 524)
	famCrash       // the web server's own worker/child died with requests in flight (520)
	famCount
)

var familyNames = [famCount]string{"no proxy error", "refused", "backlog full", "timed out", "reset/closed",
	"header too big", "invalid header", "no live upstreams", "permission denied", "out of connections", "rate limited",
	"cloudflare timed out", "web server crashed"}

func (f family) String() string { return familyNames[f] }

// group merges families that one cause produces together, so that an
// incident is not split when both appear: an exhausted pool gives timeouts
// and full backlogs, a dead upstream gives refusals and then "no live
// upstreams".
func (f family) group() family {
	switch f {
	case famPool:
		return famTimeout
	case famNoLive:
		return famDown
	}
	return f
}

// familyOf maps a proxy error event to its family; ok is false for lines
// that say nothing about a failed request.
func familyOf(ev *parsers.Event) (family, bool) {
	switch ev.Signal {
	case parsers.SigApacheConnectFailed, parsers.SigApacheNoSocket:
		// Apache names the errno in front: "(11)Resource temporarily
		// unavailable: AH02454" is a full backlog, not a dead upstream.
		switch ev.Errno {
		case 11:
			return famPool, true
		case 13:
			return famPerm, true
		}
		return famDown, true
	case parsers.SigConnectRefused, parsers.SigConnectNoSocket:
		return famDown, true
	case parsers.SigConnectAgain:
		return famPool, true
	case parsers.SigUpstreamTimedOut:
		return famTimeout, true
	case parsers.SigApacheTimeout:
		if ev.Errno == 104 || ev.Errno == 32 {
			return famReset, true // AH01075 with (104) is a reset, not a timeout
		}
		return famTimeout, true
	case parsers.SigPrematurelyClosed, parsers.SigResetByPeer:
		return famReset, true
	case parsers.SigHeaderTooBig:
		return famHeaderBig, true
	case parsers.SigInvalidHeader, parsers.SigApacheBadHeader:
		return famInvalid, true
	case parsers.SigNoLiveUpstreams:
		return famNoLive, true
	case parsers.SigConnectPermission:
		return famPerm, true
	case parsers.SigWorkerConnections, parsers.SigTooManyOpenFiles:
		return famConns, true
	case parsers.SigLimitingRequests, parsers.SigLimitingConnections:
		return famLimit, true
	}
	return famNone, false
}

// statusOf is the status a proxy answers with for a family, used when only
// the error log is available.
func (f family) status(apache bool) int {
	switch f {
	case famTimeout:
		return 504
	case famLimit:
		return 503
	case famDown, famNoLive:
		if apache {
			return 503 // mod_proxy_fcgi answers 503 when the backend is down
		}
		return 502
	}
	return 502
}
