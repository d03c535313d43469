package apache

import (
	"bytes"

	"github.com/origin-agent/origin-agent/parsers"
)

// Errno values the classification looks at: APR status codes and Linux errnos.
const (
	aprTimeup = 70007 // APR_TIMEUP "The timeout specified has expired"
	aprEOF    = 70014 // APR_EOF "End of file found"
	econnrst  = 104   // ECONNRESET
	epipe     = 32    // EPIPE
)

// classify sets ev.Signal (and Upstream where the message names it). The AH
// code decides first; AH01075 ("Error dispatching request") is refined by
// its status, since a timeout, a reset and a bogus reply all end in it; then
// the status alone (70007 is a timeout whatever module says it); text is
// matched only for lines without a code (Apache 2.2).
func classify(ev *parsers.Event, line []byte) {
	msg := ev.Message
	if ev.Code != nil {
		n, _ := parsers.Digits(ev.Code[2:])
		switch n {
		case 957: // FCGI: attempt to connect to 127.0.0.1:9000 (127.0.0.1:9000) failed
			ev.Signal = parsers.SigApacheConnectFailed
			setUpstream(ev, between(msg, "attempt to connect to ", " ("))
		case 1079: // failed to make connection to backend: 127.0.0.1
			ev.Signal = parsers.SigApacheConnectFailed
			if k := bytes.LastIndex(msg, []byte("backend: ")); k >= 0 {
				setUpstream(ev, msg[k+9:])
			}
		case 959: // ap_proxy_connect_backend disabling worker for (127.0.0.1) for 60s
			ev.Signal = parsers.SigApacheConnectFailed
			setUpstream(ev, between(msg, "(", ")"))
		case 2454: // FCGI: attempt to connect to Unix domain socket /run/php/x.sock (localhost:8000) failed
			ev.Signal = parsers.SigApacheNoSocket
			setUpstream(ev, between(msg, "Unix domain socket ", " ("))
		case 1114, 940: // HTTP: failed to make connection to backend / disabled connection for (host)
			ev.Signal = parsers.SigApacheConnectFailed
		case 1075, 1102, 898: // Error dispatching request to … / error reading status line / Error reading from remote server (mod_proxy_http)
			switch ev.Errno {
			case aprTimeup:
				ev.Signal = parsers.SigApacheTimeout
			case econnrst, epipe:
				ev.Signal = parsers.SigResetByPeer
			case aprEOF:
				ev.Signal = parsers.SigPrematurelyClosed
			case 0:
				if n != 898 { // AH00898 without a status only repeats the failure before it
					ev.Signal = parsers.SigApacheTimeout
				}
			}
		case 52, 51: // child pid 1234 exit signal Segmentation fault (11)[, possible coredump in /etc/apache2]
			childSignal(ev, msg)
		case 1067, 1068: // Failed to read FastCGI header / Got bogus version N
			ev.Signal = parsers.SigApacheBadHeader
		case 484, 286, 161: // server reached MaxRequestWorkers setting (event, worker, prefork)
			ev.Signal = parsers.SigApacheMaxWorkers
		case 489, 292, 163: // … configured -- resuming normal operations (event, worker, prefork)
			ev.Signal = parsers.SigServerStarted
		case 169, 491, 295, 492, 296, 170: // caught SIGTERM, shutting down / caught SIGWINCH, shutting down gracefully
			ev.Signal = parsers.SigServerStopping
		}
		if ev.Signal == parsers.SigNone && ev.Errno == aprTimeup {
			ev.Signal = parsers.SigApacheTimeout
		}
		return
	}
	if ev.Errno == aprTimeup {
		ev.Signal = parsers.SigApacheTimeout
		return
	}
	switch {
	case bytes.Contains(line, []byte("The timeout specified has expired")):
		ev.Signal = parsers.SigApacheTimeout
	case bytes.Contains(msg, []byte("attempt to connect to Unix domain socket ")):
		ev.Signal = parsers.SigApacheNoSocket
		setUpstream(ev, between(msg, "Unix domain socket ", " ("))
	case bytes.Contains(msg, []byte("attempt to connect to ")) && bytes.Contains(msg, []byte(") failed")):
		ev.Signal = parsers.SigApacheConnectFailed
		setUpstream(ev, between(msg, "attempt to connect to ", " ("))
	case bytes.Contains(msg, []byte("failed to make connection to backend")),
		bytes.Contains(msg, []byte("ap_proxy_connect_backend disabling worker")):
		ev.Signal = parsers.SigApacheConnectFailed
	case bytes.Contains(msg, []byte("Failed to read FastCGI header")), bytes.Contains(msg, []byte("Got bogus version")):
		ev.Signal = parsers.SigApacheBadHeader
	case bytes.Contains(msg, []byte("server reached MaxRequestWorkers setting")),
		bytes.Contains(msg, []byte("server reached MaxClients setting")):
		ev.Signal = parsers.SigApacheMaxWorkers
	case bytes.Contains(msg, []byte("child pid ")) && bytes.Contains(msg, []byte(" exit signal ")):
		childSignal(ev, msg)
	case bytes.Contains(msg, []byte("resuming normal operations")):
		ev.Signal = parsers.SigServerStarted
	case bytes.HasPrefix(msg, []byte("caught SIGTERM, shutting down")), bytes.Contains(msg, []byte(", shutting down gracefully")):
		ev.Signal = parsers.SigServerStopping
	}
}

// childSignal reads "child pid 1234 exit signal Segmentation fault (11)":
// an apache child died with its requests in flight.
func childSignal(ev *parsers.Event, msg []byte) {
	k := bytes.Index(msg, []byte("child pid "))
	if k < 0 {
		return
	}
	rest := msg[k+len("child pid "):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	pid, ok := parsers.Atoi(rest[:n])
	if !ok || !bytes.HasPrefix(rest[n:], []byte(" exit signal ")) {
		return
	}
	ev.Signal, ev.ChildPID = parsers.SigServerChildSignal, pid
	if s := between(rest[n:], "(", ")"); len(s) > 0 {
		if sig, ok := parsers.Atoi(s); ok {
			ev.ExitSig = sig
		}
	}
}

func setUpstream(ev *parsers.Event, v []byte) {
	if ev.Upstream == nil && len(v) > 0 {
		ev.Upstream = v
	}
}

// between returns the text after the first from and before the next to.
func between(b []byte, from, to string) []byte {
	k := bytes.Index(b, []byte(from))
	if k < 0 {
		return nil
	}
	b = b[k+len(from):]
	e := bytes.Index(b, []byte(to))
	if e < 0 {
		return nil
	}
	return b[:e]
}
