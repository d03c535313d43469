package nginx

import (
	"bytes"
	"fmt"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

var (
	errErrPrefix = fmt.Errorf("%w: no nginx error-log prefix", parsers.ErrNoMatch)
	errErrTime   = fmt.Errorf("%w: bad nginx error-log time", parsers.ErrNoMatch)
)

// NewError returns a parser for the nginx error log:
//
//	2026/11/20 10:01:02 [error] 1234#1234: *56 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: example.com, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"
//
// Events are KindProxy with Level, PID, TID, ConnID ("*56"), Errno, Message
// (after the "*N " prefix up to ", client:"), Client, Host, Request (and
// Method, URI, Protocol from it), Upstream and Referer from the trailer, and
// the Signal the message shape maps to. The time stamp has no zone: it is
// read in o.Loc() and NoZone is set.
//
// Behind a syslog or journal prefix (error_log syslog:…, RFC 3164 or 5424
// as the syslog daemon writes it, or journalctl's "Dec 09 21:35:20 host
// nginx[983479]: " and its stamp-less "host nginx[983479]: ") the line is
// read from nginx's own stamp on.
//
// Any other line is the continuation of a multi-line message (PHP messages
// in "FastCGI sent in stderr"): nginx writes nothing else to this log. Such
// lines give parsers.ErrContinuation.
func NewError(o parsers.Options) parsers.Func {
	loc := o.Loc()
	return func(line []byte) (parsers.Event, error) {
		if len(line) > 0 && (line[0] < '0' || line[0] > '9') || len(line) > 4 && line[4] != '/' {
			return parsePrefixed(line, o, loc)
		}
		return parseError(line, loc)
	}
}

// parsePrefixed reads a line that does not start with nginx's stamp: one
// behind a syslog or journal prefix, else a continuation. It is apart from
// NewError's closure so that the common path keeps a small frame.
//
//go:noinline
func parsePrefixed(line []byte, o parsers.Options, loc *time.Location) (parsers.Event, error) {
	if h, ok := parsers.ParseSyslog(line, o); ok && isStamp(h.Msg) {
		ev, err := parseError(h.Msg, loc)
		if err == nil && ev.PID == 0 {
			ev.PID = h.PID
		}
		return ev, err
	}
	if msg, ok := afterSyslog(line); ok {
		return parseError(msg, loc)
	}
	return parsers.Event{}, errContinued
}

// isStamp reports whether r starts like an error-log line ("2026/11/20 10:01:02 [").
func isStamp(r []byte) bool {
	return len(r) >= 27 && r[4] == '/' && r[7] == '/' && r[10] == ' ' && r[19] == ' ' && r[20] == '['
}

var errContinued = fmt.Errorf("%w (nginx error log)", parsers.ErrContinuation)

// afterSyslog finds nginx's own line behind a syslog or journal prefix: the
// first "tag: " or "tag[pid]: " within the line's start that is followed by
// an error-log stamp.
func afterSyslog(line []byte) ([]byte, bool) {
	head := line
	if len(head) > 200 {
		head = head[:200]
	}
	for i := 0; i < len(head); {
		k := bytes.Index(head[i:], []byte(": "))
		if k < 0 {
			return nil, false
		}
		i += k + 2
		if r := line[i:]; isStamp(r) {
			return r, true
		}
	}
	return nil, false
}

func parseError(line []byte, loc *time.Location) (parsers.Event, error) {
	var ev parsers.Event
	// "2026/11/20 10:01:02 [error] 1234#1234: "
	if len(line) < 27 || line[4] != '/' || line[7] != '/' || line[10] != ' ' || line[13] != ':' || line[16] != ':' ||
		line[19] != ' ' || line[20] != '[' {
		return ev, errErrPrefix
	}
	year, ok1 := parsers.Digits(line[0:4])
	mon, ok2 := parsers.Digits(line[5:7])
	day, ok3 := parsers.Digits(line[8:10])
	hh, ok4 := parsers.Digits(line[11:13])
	mm, ok5 := parsers.Digits(line[14:16])
	ss, ok6 := parsers.Digits(line[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !parsers.ValidClock(year, time.Month(mon), day, hh, mm, ss) {
		return ev, errErrTime
	}
	ev.Time = time.Date(year, time.Month(mon), day, hh, mm, ss, 0, loc)
	if ev.Time.Day() != day { // 2026/02/31 would roll into March
		return parsers.Event{}, errErrTime
	}
	ev.NoZone = true
	ev.Kind = parsers.KindProxy

	rest := line[21:]
	rb := bytes.IndexByte(rest, ']')
	if rb < 0 {
		return parsers.Event{}, errErrPrefix
	}
	ev.Level = level(rest[:rb])
	if ev.Level == parsers.LevelUnknown || !bytes.HasPrefix(rest[rb+1:], []byte(" ")) {
		return parsers.Event{}, errErrPrefix
	}
	rest = rest[rb+2:]

	// "1234#1234: "
	var ok bool
	var n int
	if ev.PID, n, ok = number(rest); !ok || n >= len(rest) || rest[n] != '#' {
		return parsers.Event{}, errErrPrefix
	}
	rest = rest[n+1:]
	if ev.TID, n, ok = number(rest); !ok || !bytes.HasPrefix(rest[n:], []byte(": ")) {
		return parsers.Event{}, errErrPrefix
	}
	rest = rest[n+2:]
	if len(rest) > 1 && rest[0] == '*' {
		if id, n, ok := number(rest[1:]); ok && 1+n < len(rest) && rest[1+n] == ' ' {
			ev.ConnID = int64(id)
			rest = rest[n+2:]
		}
	}

	msg := rest
	if i := bytes.Index(rest, []byte(", client: ")); i >= 0 {
		msg = rest[:i]
		parseTrailer(rest[i:], &ev)
	}
	ev.Message = msg
	ev.Errno = errno(msg)
	ev.Signal = classify(msg, ev.Errno)
	if ev.Signal == parsers.SigWorkerConnections {
		// "16 worker_connections are not enough": the configured limit
		if v, _, ok := number(msg); ok {
			ev.Value = v
		}
	}
	if ev.Signal == parsers.SigServerChildSignal {
		// "worker process 9839 exited on signal 11 (core dumped)"
		rest := msg[len("worker process "):]
		if pid, n, ok := number(rest); ok {
			ev.ChildPID = pid
			if i := bytes.Index(rest[n:], []byte(" exited on signal ")); i >= 0 {
				if sig, _, ok := number(rest[n+i+len(" exited on signal "):]); ok {
					ev.ExitSig = sig
				}
			}
		}
	}
	return ev, nil
}

// number reads leading decimal digits.
func number(b []byte) (v, n int, ok bool) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, ok = parsers.Atoi(b[:n])
	return v, n, ok
}

func level(b []byte) parsers.Level {
	switch string(b) {
	case "debug":
		return parsers.LevelDebug
	case "info":
		return parsers.LevelInfo
	case "notice":
		return parsers.LevelNotice
	case "warn":
		return parsers.LevelWarn
	case "error":
		return parsers.LevelError
	case "crit", "alert", "emerg":
		return parsers.LevelCrit
	}
	return parsers.LevelUnknown
}

// parseTrailer reads ", client: X, server: Y, request: "…", upstream: "…",
// host: "…", referrer: "…"". Quoted values are not escaped by nginx, so a
// value ends at a '"' that is followed by the end of the line or by the
// next ", key: ".
func parseTrailer(b []byte, ev *parsers.Event) {
	for len(b) > 2 && b[0] == ',' && b[1] == ' ' {
		b = b[2:]
		c := bytes.Index(b, []byte(": "))
		if c <= 0 {
			return
		}
		key := b[:c]
		b = b[c+2:]
		var v []byte
		if len(b) > 0 && b[0] == '"' {
			end := quotedEnd(b[1:])
			if end < 0 {
				return
			}
			v = b[1 : 1+end]
			b = b[end+2:]
		} else {
			end := bytes.Index(b, []byte(", "))
			if end < 0 {
				end = len(b)
			}
			v = b[:end]
			b = b[end:]
		}
		switch string(key) {
		case "client":
			ev.Client = v
		case "server":
			// the server_name matched; Host is the better request identity,
			// Server says which server block (site) the request was for
			ev.Server = v
		case "request":
			ev.Request = v
			ev.Method, ev.URI, ev.Protocol = splitRequest(v)
		case "upstream":
			ev.Upstream = v
		case "host":
			ev.Host = v
		case "referrer":
			ev.Referer = v
		}
	}
}

// quotedEnd returns the index of the '"' that closes a trailer value.
func quotedEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		after := b[i+1:]
		if len(after) == 0 || isTrailerKey(after) {
			return i
		}
	}
	return -1
}

// isTrailerKey reports whether b starts with ", word: ".
func isTrailerKey(b []byte) bool {
	if len(b) < 4 || b[0] != ',' || b[1] != ' ' {
		return false
	}
	for i := 2; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 'a' && c <= 'z':
		case c == ':' && i > 2:
			return i+1 < len(b) && b[i+1] == ' '
		default:
			return false
		}
	}
	return false
}

// errno returns N from the first "(N: " in msg, 0 if none.
func errno(msg []byte) int {
	for i := 0; i < len(msg); i++ {
		if msg[i] != '(' {
			continue
		}
		v, n, ok := number(msg[i+1:])
		if ok && n <= 5 && bytes.HasPrefix(msg[i+1+n:], []byte(": ")) {
			return v
		}
	}
	return 0
}
