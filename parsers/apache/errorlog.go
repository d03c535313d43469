package apache

import (
	"bytes"
	"fmt"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

var (
	errNotError = fmt.Errorf("%w: not an apache error log line", parsers.ErrNoMatch)
	errBadTime  = fmt.Errorf("%w: bad apache error log time stamp", parsers.ErrNoMatch)
)

// NewError returns a parser for the Apache error log in its default
// ErrorLogFormat: 2.4's
//
//	[Fri Nov 20 10:01:02.123456 2026] [proxy_fcgi:error] [pid 1234:tid 5678] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01075: Error dispatching request to : (polling), referer: http://example.com/
//
// (with or without ":tid", a "file.c(123): " part at debug level, and
// "[remote ip:port]" for backend connections, which fills Upstream), 2.2's
// "[Fri Nov 20 10:01:02 2026] [error] [client 1.2.3.4] message", and
// startup lines that carry only "AHnnnnn: message". Events are KindProxy;
// Time has no zone, so it is built in o.Loc() and NoZone is set. Client is
// the address without its port; Message is the text after the AH code and
// before ", referer: ".
//
// Behind a syslog or journal prefix (ErrorLog syslog: "Feb 15 16:23:00 srv
// httpd[22034]: [authz_core:error] [pid 22034] …", RFC 3339 stamps too) the
// line is read the same; Time comes from the prefix (see
// parsers.ParseSyslog) and PID from the tag when the message has none.
//
// "[remote ip:port]" is the peer of a connection: the backend on proxy
// modules' lines (Upstream), the client elsewhere (HTTP/2 streams and
// other connection-level lines log the client so). "[client [v6]:port]"
// is split at the bracket.
func NewError(o parsers.Options) parsers.Func {
	loc := o.Loc()
	return func(line []byte) (parsers.Event, error) {
		if len(line) > 0 && line[0] != '[' && line[0] != 'A' {
			return parseSyslogError(o, line)
		}
		return parseError(loc, line)
	}
}

// parseSyslogError reads an error line behind a syslog prefix, where
// Apache leaves out its own time stamp.
func parseSyslogError(o parsers.Options, line []byte) (parsers.Event, error) {
	h, ok := parsers.ParseSyslog(line, o)
	if !ok || len(h.Msg) == 0 {
		return parsers.Event{}, errNotError
	}
	msg := h.Msg
	ev, err := parseError(nil, msg)
	if err != nil {
		return parsers.Event{}, err
	}
	if ev.Level == parsers.LevelUnknown && ev.Client == nil && ev.Code == nil {
		return parsers.Event{}, errNotError // another daemon's "[…]" message
	}
	ev.Time, ev.NoZone, ev.NoYear = h.Time, h.NoZone, h.NoYear
	if ev.PID == 0 {
		ev.PID = h.PID
	}
	return ev, nil
}

// parseError reads a line; loc nil means the line has no time stamp of its
// own (a syslog message) and starts at "[module:level]".
func parseError(loc *time.Location, line []byte) (parsers.Event, error) {
	ev := parsers.Event{Kind: parsers.KindProxy}
	rest := line
	if loc == nil && len(rest) > 0 && rest[0] == '[' {
		if k := bytes.IndexByte(rest, ']'); k > 0 {
			ml := rest[1:k]
			lv := ml
			if c := bytes.LastIndexByte(ml, ':'); c >= 0 {
				if c > 0 {
					ev.Module = ml[:c]
				}
				lv = ml[c+1:]
			}
			if l, ok := level(lv); ok {
				ev.Level = l
				rest = trimSpace1(rest[k+1:])
			}
		}
	} else if len(rest) > 0 && rest[0] == '[' {
		k := bytes.IndexByte(rest, ']')
		if k < 0 {
			return parsers.Event{}, errNotError
		}
		t, ok := parseCtime(rest[1:k], loc)
		if !ok {
			return parsers.Event{}, errBadTime
		}
		ev.Time, ev.NoZone = t, true
		rest = rest[k+1:]
		// [module:level] (2.4) or [level] (2.2)
		if !bytes.HasPrefix(rest, []byte(" [")) {
			return parsers.Event{}, errNotError
		}
		rest = rest[2:]
		k = bytes.IndexByte(rest, ']')
		if k < 0 {
			return parsers.Event{}, errNotError
		}
		ml := rest[:k]
		lv := ml
		if c := bytes.LastIndexByte(ml, ':'); c >= 0 {
			if c > 0 {
				ev.Module = ml[:c]
			}
			lv = ml[c+1:]
		}
		if ev.Level, ok = level(lv); !ok {
			return parsers.Event{}, errNotError
		}
		rest = trimSpace1(rest[k+1:])
	} else if !isCode(rest) {
		return parsers.Event{}, errNotError
	}
	v24 := false
	if bytes.HasPrefix(rest, []byte("[pid ")) {
		k := bytes.IndexByte(rest, ']')
		if k < 0 {
			return parsers.Event{}, errNotError
		}
		pt := rest[5:k]
		if c := bytes.Index(pt, []byte(":tid ")); c >= 0 {
			ev.TID, _ = parsers.Atoi(pt[c+5:])
			pt = pt[:c]
		}
		ev.PID, _ = parsers.Atoi(pt)
		rest = trimSpace1(rest[k+1:])
		v24 = true
	}
	// The optional parts, in 2.4's order (2.2 puts the client first).
	for {
		switch {
		case bytes.HasPrefix(rest, []byte("[client ")) || bytes.HasPrefix(rest, []byte("[remote ")):
			from := 8
			if len(rest) > 8 && rest[8] == '[' { // [client [2001:db8::1]:51548]
				if b := bytes.IndexByte(rest[8:], ']'); b > 0 {
					from = 8 + b + 1
				}
			}
			k := bytes.IndexByte(rest[from:], ']')
			if k < 0 {
				return ev, nil // malformed tail: keep what we have
			}
			k += from
			addr := rest[8:k]
			if v24 || (len(addr) > 0 && addr[0] == '[') {
				addr = stripPort(addr)
			}
			if rest[1] == 'r' && bytes.HasPrefix(ev.Module, []byte("proxy")) {
				ev.Upstream = rest[8:k]
			} else if ev.Client == nil {
				ev.Client = addr
			}
			rest = trimSpace1(rest[k+1:])
			continue
		case len(rest) > 2 && rest[0] == '(':
			k := bytes.IndexByte(rest, ')')
			if k > 1 {
				if n, ok := parsers.Atoi(rest[1:k]); ok {
					ev.Errno = n
					// "(70007)The timeout specified has expired: "
					if c := bytes.Index(rest[k:], []byte(": ")); c >= 0 {
						rest = rest[k+c+2:]
					} else {
						rest = rest[len(rest):]
					}
					continue
				}
			}
		default:
			if k := fileLine(rest); k > 0 {
				rest = rest[k:]
				continue
			}
		}
		break
	}
	if isCode(rest) {
		ev.Code = rest[:7]
		rest = rest[7:]
		if bytes.HasPrefix(rest, []byte(": ")) {
			rest = rest[2:]
		} else if len(rest) > 0 && rest[0] == ':' {
			rest = rest[1:]
		}
	}
	if k := bytes.LastIndex(rest, []byte(", referer: ")); k >= 0 {
		ev.Referer = rest[k+11:]
		rest = rest[:k]
	}
	ev.Message = rest
	classify(&ev, line)
	return ev, nil
}

// parseCtime parses apr_ctime's "Fri Nov 20 10:01:02.123456 2026" (2.4; the
// fraction is optional, 2.2 has none).
func parseCtime(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 24 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	mon, ok1 := parsers.Month(b[4:7])
	dayb := b[8:10]
	if dayb[0] == ' ' {
		dayb = dayb[1:]
	}
	day, ok2 := parsers.Digits(dayb)
	hh, ok3 := parsers.Digits(b[11:13])
	mm, ok4 := parsers.Digits(b[14:16])
	ss, ok5 := parsers.Digits(b[17:19])
	p := 19
	ns := 0
	if b[p] == '.' {
		p++
		s := p
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			p++
		}
		if p-s == 0 || p-s > 9 {
			return time.Time{}, false
		}
		ns, _ = parsers.Digits(b[s:p])
		for i := p - s; i < 9; i++ {
			ns *= 10
		}
	}
	if p+5 != len(b) || b[p] != ' ' {
		return time.Time{}, false
	}
	year, ok6 := parsers.Digits(b[p+1:])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !parsers.ValidClock(year, mon, day, hh, mm, ss) {
		return time.Time{}, false
	}
	return time.Date(year, mon, day, hh, mm, ss, ns, loc), true
}

func level(b []byte) (parsers.Level, bool) {
	switch string(b) { // no allocation: the compiler compares in place
	case "emerg", "alert", "crit":
		return parsers.LevelCrit, true
	case "error":
		return parsers.LevelError, true
	case "warn":
		return parsers.LevelWarn, true
	case "notice":
		return parsers.LevelNotice, true
	case "info":
		return parsers.LevelInfo, true
	case "debug", "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8":
		return parsers.LevelDebug, true
	}
	return parsers.LevelUnknown, false
}

// isCode reports whether b starts with an "AHnnnnn" code.
func isCode(b []byte) bool {
	if len(b) < 7 || b[0] != 'A' || b[1] != 'H' {
		return false
	}
	_, ok := parsers.Digits(b[2:7])
	return ok && (len(b) == 7 || b[7] == ':')
}

// fileLine returns the length of a leading "mod_proxy_fcgi.c(1234): ", or 0.
func fileLine(b []byte) int {
	k := bytes.IndexByte(b, '(')
	if k <= 2 || k > 64 || !bytes.HasSuffix(b[:k], []byte(".c")) {
		return 0
	}
	if bytes.IndexByte(b[:k], ' ') >= 0 {
		return 0
	}
	e := bytes.Index(b[k:], []byte("): "))
	if e < 0 {
		return 0
	}
	if _, ok := parsers.Digits(b[k+1 : k+e]); !ok {
		return 0
	}
	return k + e + 3
}

// stripPort removes ":port" from "ip:port" (IPv6 addresses are mostly
// written without brackets, so the last colon is the port's) and the
// brackets from "[v6]:port".
func stripPort(a []byte) []byte {
	if len(a) > 1 && a[0] == '[' {
		if b := bytes.IndexByte(a, ']'); b > 0 {
			return a[1:b]
		}
	}
	k := bytes.LastIndexByte(a, ':')
	if k <= 0 {
		return a
	}
	if _, ok := parsers.Digits(a[k+1:]); !ok {
		return a
	}
	return a[:k]
}

func trimSpace1(b []byte) []byte {
	if len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}
