// Package parsers turns single log lines into typed events.
//
// Parsers are pure: bytes in, Event out, no I/O, no clock, no globals that
// change. Each format lives in its own sub-package (nginx, apache, phpfpm,
// kernel) and detect picks one for a file by its content. They share this
// package's Event so that the correlator sees one shape whatever the source.
//
// On the hot path a parser allocates nothing: the []byte fields of an Event
// are sub-slices of the line that was parsed and are only valid until the
// caller reuses that buffer. A caller that keeps an event beyond that must
// copy what it keeps (see Event.Clone).
package parsers

import (
	"errors"
	"fmt"
	"time"
)

// Func parses one line (without its trailing newline). It returns
// ErrNoMatch (possibly wrapped) when the line is not in the parser's format;
// such lines are counted as skipped, never fatal. A line that is in the
// format but carries nothing of interest is returned with Signal == SigNone.
type Func func(line []byte) (Event, error)

// ErrNoMatch reports that a line is not in the parser's format.
var ErrNoMatch = errors.New("line does not match the format")

// ErrContinuation reports a line that continues the message of the line
// before it (the PHP messages nginx logs from "FastCGI sent in stderr" span
// lines). It wraps ErrNoMatch, so a caller that does not know it skips the
// line; callers that do count it with the message before, not as
// unparseable (when a line before it parsed).
var ErrContinuation = fmt.Errorf("%w: continues the previous line's message", ErrNoMatch)

// Type names a log format. The strings are the TYPE of
// `origin-agent analyze TYPE=PATH` and appear in JSON output.
type Type string

const (
	TypeNginxAccess  Type = "nginx_access"
	TypeNginxError   Type = "nginx_error"
	TypeApacheAccess Type = "apache_access"
	TypeApacheError  Type = "apache_error"
	TypePHPFPM       Type = "php_fpm"
	TypeKernel       Type = "kernel"
)

// Types lists every Type in the order used for help texts.
var Types = []Type{TypeNginxAccess, TypeNginxError, TypeApacheAccess, TypeApacheError, TypePHPFPM, TypeKernel}

// Kind is the broad class of an event.
type Kind uint8

const (
	KindNone   Kind = iota
	KindAccess      // one HTTP request from an access log
	KindProxy       // a web server's error-log line (nginx or apache)
	KindFPM         // a php-fpm master log line
	KindKernel      // a kernel message
)

// Level is a normalised severity.
type Level uint8

const (
	LevelUnknown Level = iota
	LevelDebug
	LevelInfo
	LevelNotice
	LevelWarn
	LevelError
	LevelCrit // crit, alert, emerg
)

// Signal classifies what a non-access line tells about the origin's health.
// Each value is one message shape named in the cause taxonomy; parsers map
// text to these so the correlator never matches strings.
type Signal uint16

const (
	SigNone Signal = iota

	// nginx error log (KindProxy).
	SigUpstreamTimedOut    // upstream timed out (110: ...) while connecting/reading response header
	SigConnectRefused      // connect() failed (111: Connection refused)
	SigConnectNoSocket     // connect() to unix:... failed (2: No such file or directory)
	SigConnectAgain        // connect() to unix:... failed (11: Resource temporarily unavailable)
	SigConnectPermission   // connect() ... failed (13: Permission denied)
	SigPrematurelyClosed   // upstream prematurely closed connection while reading response header
	SigResetByPeer         // recv()/readv()/writev() failed (104: Connection reset by peer)
	SigHeaderTooBig        // upstream sent too big header while reading response header
	SigInvalidHeader       // upstream sent invalid header / invalid status line
	SigNoLiveUpstreams     // no live upstreams while connecting to upstream
	SigWorkerConnections   // worker_connections are not enough
	SigTooManyOpenFiles    // (24: Too many open files)
	SigLimitingRequests    // limiting requests, excess: ... by zone
	SigLimitingConnections // limiting connections by zone
	SigServerStarted       // nginx/apache start (start worker process, resuming normal operations)
	SigServerStopping      // nginx/apache shutting down (exiting, caught SIGTERM)
	SigServerChildSignal   // nginx "worker process N exited on signal S", apache AH00052 "child pid N exit signal NAME (S)": ChildPID, ExitSig
	SigClientClosed        // nginx (info) "client prematurely closed connection, so upstream connection is closed too …"

	// apache error log (KindProxy).
	SigApacheConnectFailed // AH00957 (connect to backend failed), AH01079 (failed to make connection to backend)
	SigApacheTimeout       // AH01075 / "The timeout specified has expired"
	SigApacheBadHeader     // AH01067 Failed to read FastCGI header
	SigApacheMaxWorkers    // AH00484 server reached MaxRequestWorkers
	SigApacheNoSocket      // AH02454 FCGI: attempt to connect to Unix domain socket ... failed

	// php-fpm log (KindFPM).
	SigFPMMaxChildren // server reached pm.max_children setting (N), consider raising it
	SigFPMSeemsBusy   // seems busy (you may need to increase pm.start_servers ...)
	SigFPMChildExited // child N exited on signal S (NAME) / exited with code C
	SigFPMExecTimeout // child N, script '...' (request: ...) execution timed out (X sec), terminating
	SigFPMSlowlog     // child N, script '...' (request: ...) executing too slow (X sec), logging
	SigFPMStarted     // fpm is running, pid N / ready to handle connections
	SigFPMStopping    // Terminating ... / exiting, bye-bye! / Finishing ...

	// kernel (KindKernel).
	SigOOMKill       // Out of memory / Memory cgroup out of memory: Killed process N (name)
	SigOOMInvoked    // NAME invoked oom-killer: gfp_mask=...
	SigOOMConstraint // oom-kill:constraint=...,task=name,pid=N,uid=N
	SigOOMReaper     // oom_reaper: reaped process N (name)
	SigSegfault      // name[N]: segfault at ... ip ... error N in ...
)

var signalNames = [...]string{
	SigNone:                "none",
	SigUpstreamTimedOut:    "upstream_timed_out",
	SigConnectRefused:      "connect_refused",
	SigConnectNoSocket:     "connect_no_socket",
	SigConnectAgain:        "connect_again",
	SigConnectPermission:   "connect_permission_denied",
	SigPrematurelyClosed:   "upstream_prematurely_closed",
	SigResetByPeer:         "reset_by_peer",
	SigHeaderTooBig:        "upstream_header_too_big",
	SigInvalidHeader:       "upstream_invalid_header",
	SigNoLiveUpstreams:     "no_live_upstreams",
	SigWorkerConnections:   "worker_connections_not_enough",
	SigTooManyOpenFiles:    "too_many_open_files",
	SigLimitingRequests:    "limiting_requests",
	SigLimitingConnections: "limiting_connections",
	SigServerStarted:       "server_started",
	SigServerStopping:      "server_stopping",
	SigServerChildSignal:   "server_child_signal",
	SigClientClosed:        "client_closed",
	SigApacheConnectFailed: "apache_connect_failed",
	SigApacheTimeout:       "apache_timeout",
	SigApacheBadHeader:     "apache_bad_header",
	SigApacheMaxWorkers:    "apache_max_workers",
	SigApacheNoSocket:      "apache_no_socket",
	SigFPMMaxChildren:      "fpm_max_children",
	SigFPMSeemsBusy:        "fpm_seems_busy",
	SigFPMChildExited:      "fpm_child_exited",
	SigFPMExecTimeout:      "fpm_execution_timed_out",
	SigFPMSlowlog:          "fpm_slowlog",
	SigFPMStarted:          "fpm_started",
	SigFPMStopping:         "fpm_stopping",
	SigOOMKill:             "oom_kill",
	SigOOMInvoked:          "oom_invoked",
	SigOOMConstraint:       "oom_constraint",
	SigOOMReaper:           "oom_reaper",
	SigSegfault:            "segfault",
}

func (s Signal) String() string {
	if int(s) < len(signalNames) && signalNames[s] != "" {
		return signalNames[s]
	}
	return "signal(" + itoa(int(s)) + ")"
}

// Event is what one line says. Fields that a format does not carry are zero.
// []byte fields alias the parsed line (see the package comment).
type Event struct {
	Time   time.Time // zero when the line has no time stamp (or an unparseable one)
	Kind   Kind
	Signal Signal
	Level  Level
	// NoZone and NoYear are described at the end; they sit here, in what
	// would be padding, to keep the Event (copied per line) small.
	NoZone, NoYear bool

	// Access-log fields (KindAccess).
	Status         int    // HTTP status sent to the client, 0 if absent
	UpstreamStatus []byte // raw $upstream_status, e.g. "502", "502, 504", "-" (nil if not logged)
	RequestTime    int64  // $request_time / %D in microseconds, -1 if not logged
	UpstreamTime   int64  // $upstream_response_time (first value) in microseconds, -1 if not logged or "-"
	Method         []byte // GET
	URI            []byte // /path?query as requested
	Protocol       []byte // HTTP/1.1
	Bytes          int64  // body bytes sent, -1 if not logged

	// Shared request identity: access logs and proxy error lines both carry
	// these where the format has them, which is how a 502 is matched to its
	// proxy error.
	Client []byte // client address ($remote_addr, $http_cf_connecting_ip when present, "client: X")
	// Forwarded is the X-Forwarded-For list a line carries (in its own
	// field, or written where the client address stands), nil if none.
	Forwarded  []byte
	RemoteAddr []byte // the TCP peer ($remote_addr, %a/%h); for Cloudflare this is an edge address
	Host       []byte // $host / "host: X"
	Server     []byte // the server block's name: nginx error-log "server: X"
	Request    []byte // the request line "GET /x HTTP/1.1"
	Upstream   []byte // upstream address: "unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000", fcgi://...
	CFRay      []byte // $http_cf_ray
	UserAgent  []byte
	Referer    []byte

	// Error-log fields.
	PID     int    // the writing process (nginx/apache worker, php-fpm master) ; 0 if absent
	TID     int    // thread id where logged (apache)
	ConnID  int64  // nginx "*N" connection id, 0 if absent
	Errno   int    // errno in "(111: Connection refused)" or apache "(70007)", 0 if absent
	Code    []byte // apache AHnnnnn code
	Module  []byte // apache module (proxy_fcgi), kernel subsystem
	Message []byte // the free-text part of the line, after the standard prefix

	// php-fpm and kernel details.
	Pool     []byte // php-fpm pool name ("www")
	ChildPID int    // php-fpm child / kernel killed or faulting process
	ExitSig  int    // signal number a child exited on (9, 11, 15…), 0 if it exited with a code
	ExitCode int    // exit code when it exited normally
	Value    int    // a number the message states: pm.max_children (N), timeout seconds, children count
	Process  []byte // kernel process name ("php-fpm8.2"), or the script for php-fpm timeouts

	// Kernel records: Monotonic is the time since boot the record carries
	// (/dev/kmsg usec, dmesg "[12345.678901]"), Seq the /dev/kmsg sequence
	// number. Time is zero when a record has only a monotonic stamp.
	Monotonic time.Duration
	Seq       uint64

	// NoZone (declared above): where the line itself said its time zone
	// was missing (nginx error log, php-fpm, classic syslog), Time was built
	// in the parser's location and NoZone is true so callers may re-base it
	// once the real offset is known. NoYear (above) is true when the line's
	// time had no year (classic syslog) and the parser's reference year was
	// used.
}

// Clone returns a copy of e whose []byte fields no longer alias the line.
func (e Event) Clone() Event {
	c := e
	for _, p := range []*[]byte{&c.UpstreamStatus, &c.Method, &c.URI, &c.Protocol, &c.Client, &c.RemoteAddr,
		&c.Host, &c.Server, &c.Forwarded, &c.Request, &c.Upstream, &c.CFRay, &c.UserAgent, &c.Referer, &c.Code, &c.Module,
		&c.Message, &c.Pool, &c.Process} {
		if *p != nil {
			*p = append([]byte(nil), *p...)
		}
	}
	return c
}

// IsGateway reports whether an access event is a gateway status (502, 503, 504).
func (e *Event) IsGateway() bool {
	return e.Kind == KindAccess && (e.Status == 502 || e.Status == 503 || e.Status == 504)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
