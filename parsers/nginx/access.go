package nginx

import (
	"bytes"
	"fmt"

	"github.com/origin-agent/origin-agent/parsers"
)

// Reasons a line does not match a format. They wrap parsers.ErrNoMatch and
// are made once so that rejecting a line allocates nothing.
var (
	errLiteral  = fmt.Errorf("%w: literal text differs from the log_format", parsers.ErrNoMatch)
	errValue    = fmt.Errorf("%w: a variable's value has the wrong shape", parsers.ErrNoMatch)
	errStatus   = fmt.Errorf("%w: no 3-digit status", parsers.ErrNoMatch)
	errNoClient = fmt.Errorf("%w: no client address where the format has one", parsers.ErrNoMatch)
)

// NewAccess returns a parser for access lines written with format f. Events
// are KindAccess; Time comes from $time_local or $time_iso8601 (converted to
// UTC, the instant is exact) or else $msec. A line must carry $status.
//
// Text after the end of the format is allowed, so Combined() reads every
// format that begins with combined. From that text it also picks up common
// extras when the format itself did not set them: rt= / request_time=,
// urt= / upstream_response_time=, us= / ups= / upstream_status=, ua= /
// upstream_addr= / upstream=, host=, cf_ray= / cfray=, and a quoted
// "$http_x_forwarded_for" field (as in the stock "main" format).
//
// Values "-" (and "" with escape=json) count as absent, except
// UpstreamStatus, which is kept raw.
func NewAccess(f *Format, o parsers.Options) parsers.Func {
	_ = o // every access time stamp carries its zone
	return func(line []byte) (parsers.Event, error) {
		var r record
		rest, err := f.match(line, &r)
		if err != nil {
			return parsers.Event{}, err
		}
		scanExtras(rest, &r)
		ev, ok := r.event()
		if !ok {
			return parsers.Event{}, errStatus
		}
		if f.needClient && (ev.Client == nil || !oneName(r.host)) {
			return parsers.Event{}, errNoClient
		}
		return ev, nil
	}
}

// match walks the format over line, storing variable values in r, and
// returns the text after the format's end.
func (f *Format) match(line []byte, r *record) ([]byte, error) {
	pos := 0
	for k := range f.items {
		it := &f.items[k]
		if it.lit != nil {
			if !bytes.HasPrefix(line[pos:], it.lit) {
				if k == f.optEnd && k > 0 && pos == len(line) {
					break // a line that ends where a built-in format may stop
				}
				return nil, errLiteral
			}
			pos += len(it.lit)
			continue
		}
		n, ok := f.valueLen(line[pos:], it)
		if !ok {
			return nil, errValue
		}
		r.set(it.field, line[pos:pos+n])
		pos += n
	}
	return line[pos:], nil
}

// valueLen returns the length of it's value at the start of rest. Values of
// a known shape are measured by that shape (so "$time_local $status" needs
// no brackets); others run up to the next literal.
func (f *Format) valueLen(rest []byte, it *item) (int, bool) {
	switch it.shape {
	case shapeTimeLocal:
		if len(rest) < 26 {
			return 0, false
		}
		_, ok := parseTimeLocal(rest[:26])
		return 26, ok
	case shapeTimeISO:
		if len(rest) < 25 {
			return 0, false
		}
		_, ok := parseISO(rest[:25])
		return 25, ok
	case shapeStatus:
		if len(rest) < 3 {
			return 0, false
		}
		_, ok := parsers.Digits(rest[:3])
		return 3, ok
	case shapeNumber:
		n := 0
		for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '.') {
			n++
		}
		if n == 0 && len(rest) > 0 && rest[0] == '-' {
			n = 1
		}
		if n > 0 && (followedBy(rest[n:], it.next) || it.optLast && n == len(rest)) {
			return n, true
		}
	case shapeList:
		if n := listLen(rest); followedBy(rest[n:], it.next) {
			return n, true
		}
	}
	return f.freeLen(rest, it.next)
}

// freeLen is the length of a value that runs up to the literal next (or to
// the end of the line when no literal follows).
func (f *Format) freeLen(rest, next []byte) (int, bool) {
	if len(next) == 0 {
		return len(rest), true
	}
	if next[0] == '"' && f.esc != EscapeNone {
		// nginx escaped every '"' inside the value: the first real quote ends it.
		q := indexQuote(rest, f.esc == EscapeJSON)
		if q < 0 || !bytes.HasPrefix(rest[q:], next) {
			return 0, false
		}
		return q, true
	}
	i := bytes.Index(rest, next)
	return i, i >= 0
}

func followedBy(rest, next []byte) bool {
	return len(next) == 0 || bytes.HasPrefix(rest, next)
}

// indexQuote returns the index of the first '"' in b; with json, one not
// escaped by a backslash.
func indexQuote(b []byte, json bool) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			if json {
				i++
			}
		case '"':
			return i
		}
	}
	return -1
}

// listLen measures an upstream list value: "502", "502, 504",
// "502 : 504", "127.0.0.1:9000, 127.0.0.1:9001", "-".
func listLen(b []byte) int {
	n := itemLen(b)
	for n > 0 {
		sep := 0
		switch {
		case bytes.HasPrefix(b[n:], []byte(", ")):
			sep = 2
		case bytes.HasPrefix(b[n:], []byte(" : ")):
			sep = 3
		}
		if sep == 0 {
			break
		}
		m := itemLen(b[n+sep:])
		if m == 0 {
			break
		}
		n += sep + m
	}
	return n
}

func itemLen(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == ',' || c == '"' {
			return i
		}
	}
	return len(b)
}

// scanExtras reads key=value pairs and a quoted X-Forwarded-For field from
// the text after a format's end. Values already set by the format win.
func scanExtras(rest []byte, r *record) {
	sawQuoted := false
	for i := 0; i < len(rest); {
		if rest[i] == ' ' {
			i++
			continue
		}
		if rest[i] == '"' {
			q := indexQuote(rest[i+1:], false)
			if q < 0 {
				return
			}
			v := rest[i+1 : i+1+q]
			if !sawQuoted && (isAddr(firstListItem(v)) || string(v) == "-") {
				r.set(fXForwardedFor, v)
			}
			sawQuoted = true
			i += q + 2
			continue
		}
		j := i
		for j < len(rest) && rest[j] != '=' && rest[j] != ' ' {
			j++
		}
		if j == len(rest) || rest[j] == ' ' {
			i = j
			continue
		}
		key := rest[i:j]
		j++ // '='
		var v []byte
		if j < len(rest) && rest[j] == '"' {
			q := indexQuote(rest[j+1:], false)
			if q < 0 {
				return
			}
			v = rest[j+1 : j+1+q]
			i = j + q + 2
		} else {
			n := listLen(rest[j:])
			v = rest[j : j+n]
			i = j + n
			if n == 0 {
				i++ // skip whatever stopped the value
			}
		}
		if fl := extraKey(key); fl != fUnknown {
			r.set(fl, v)
		}
	}
}

// extraKey maps the key of a key=value extra to a field.
func extraKey(k []byte) field {
	switch string(k) {
	case "rt", "request_time":
		return fRequestTime
	case "urt", "upstream_response_time":
		return fUpstreamResponseTime
	case "us", "ups", "upstream_status":
		return fUpstreamStatus
	case "ua", "upstream_addr", "upstream":
		return fUpstreamAddr
	case "host":
		return fHost
	case "cf_ray", "cfray":
		return fCFRay
	}
	return fUnknown
}

// oneName reports whether a $host column holds one name (or nothing): not
// a word of an address list ("10.0.0.2," or "\"10.5.102.222,").
func oneName(h []byte) bool {
	for _, c := range h {
		if c == ',' || c == '"' {
			return false
		}
	}
	return true
}
