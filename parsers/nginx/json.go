package nginx

import (
	"fmt"

	"github.com/origin-agent/origin-agent/parsers"
)

var (
	errNotJSON    = fmt.Errorf("%w: not a flat JSON object", parsers.ErrNoMatch)
	errJSONStatus = fmt.Errorf("%w: JSON object has no 3-digit status", parsers.ErrNoMatch)
)

// jsonKeys maps the keys of JSON access logs (log_format escape=json) to
// fields. Keys are the variable names people use, with or without the
// "http_" of request headers. Read only.
var jsonKeys = map[string]field{
	"status":                 fStatus,
	"time_local":             fTimeLocal,
	"time_iso8601":           fTimeISO,
	"@timestamp":             fAnyTime,
	"timestamp":              fAnyTime,
	"time":                   fAnyTime,
	"msec":                   fMsec,
	"remote_addr":            fRemoteAddr,
	"request":                fRequest,
	"request_method":         fMethod,
	"method":                 fMethod,
	"request_uri":            fRequestURI,
	"uri":                    fURI,
	"server_protocol":        fProtocol,
	"protocol":               fProtocol,
	"host":                   fHost,
	"http_host":              fHTTPHost,
	"server_name":            fServerName,
	"upstream_status":        fUpstreamStatus,
	"upstream_addr":          fUpstreamAddr,
	"upstream":               fUpstreamAddr,
	"upstream_response_time": fUpstreamResponseTime,
	"request_time":           fRequestTime,
	"http_cf_ray":            fCFRay,
	"cf_ray":                 fCFRay,
	"http_cf_connecting_ip":  fCFConnectingIP,
	"cf_connecting_ip":       fCFConnectingIP,
	"http_x_forwarded_for":   fXForwardedFor,
	"x_forwarded_for":        fXForwardedFor,
	"http_user_agent":        fUserAgent,
	"user_agent":             fUserAgent,
	"http_referer":           fReferer,
	"http_referrer":          fReferer,
	"referer":                fReferer,
	"body_bytes_sent":        fBodyBytes,
	"bytes_sent":             fBytesSent,
	"connection":             fConnection,
	"pid":                    fPID,
}

// NewJSONAccess returns a parser for JSON-lines access logs: one flat JSON
// object per line with keys named after nginx variables (see jsonKeys in
// the source: status, time_local, time_iso8601, @timestamp, timestamp, time,
// msec, remote_addr, request, request_method, request_uri, uri, host,
// http_host, server_name, upstream_status, upstream_addr,
// upstream_response_time, request_time, http_cf_ray, cf_ray,
// http_cf_connecting_ip, http_user_agent, http_referer, body_bytes_sent…).
// Numbers may be JSON numbers or strings. String values are returned raw:
// the bytes between the quotes, still escaped. Unknown keys and nested
// values are skipped. A line without a 3-digit status is ErrNoMatch.
func NewJSONAccess(o parsers.Options) parsers.Func {
	_ = o // JSON time stamps carry their zone (or are epoch seconds)
	return func(line []byte) (parsers.Event, error) {
		var r record
		it := jsonIter{b: line}
		if !it.open() {
			return parsers.Event{}, errNotJSON
		}
		for {
			k, v, str, ok := it.next()
			if !ok {
				break
			}
			if !str && string(v) == "null" {
				continue
			}
			if f := jsonKeys[string(k)]; f != fUnknown {
				r.set(f, v)
			}
		}
		if it.bad {
			return parsers.Event{}, errNotJSON
		}
		ev, ok := r.event()
		if !ok {
			return parsers.Event{}, errJSONStatus
		}
		return ev, nil
	}
}

// LooksLikeJSONAccess reports whether line is a JSON object with a "status"
// key and at least one time key (time_local, time_iso8601, @timestamp,
// timestamp, time, msec) or request key (request, request_uri, uri).
func LooksLikeJSONAccess(line []byte) bool {
	it := jsonIter{b: line}
	if !it.open() {
		return false
	}
	var status, other bool
	for {
		k, _, _, ok := it.next()
		if !ok {
			break
		}
		switch jsonKeys[string(k)] {
		case fStatus:
			status = true
		case fTimeLocal, fTimeISO, fAnyTime, fMsec, fRequest, fRequestURI, fURI:
			other = true
		}
	}
	return !it.bad && status && other
}

// jsonIter walks the members of one JSON object without allocating.
type jsonIter struct {
	b   []byte
	i   int
	bad bool // the object was malformed
}

// open consumes the opening '{'.
func (it *jsonIter) open() bool {
	it.ws()
	if it.i >= len(it.b) || it.b[it.i] != '{' {
		return false
	}
	it.i++
	return true
}

func (it *jsonIter) ws() {
	for it.i < len(it.b) {
		switch it.b[it.i] {
		case ' ', '\t', '\r', '\n':
			it.i++
		default:
			return
		}
	}
}

// next returns the next member. For a string, val is the raw text between
// the quotes and str is true; for other values val is the literal text
// (number, true, false, null, or a whole nested object or array). ok is
// false at the end of the object or on malformed input (then bad is set).
func (it *jsonIter) next() (key, val []byte, str, ok bool) {
	it.ws()
	if it.i >= len(it.b) {
		it.bad = true
		return nil, nil, false, false
	}
	switch it.b[it.i] {
	case '}':
		it.i++
		it.ws()
		if it.i != len(it.b) {
			it.bad = true
		}
		return nil, nil, false, false
	case ',':
		it.i++
		it.ws()
	}
	key, ok = it.str()
	if !ok {
		it.bad = true
		return nil, nil, false, false
	}
	it.ws()
	if it.i >= len(it.b) || it.b[it.i] != ':' {
		it.bad = true
		return nil, nil, false, false
	}
	it.i++
	it.ws()
	if it.i < len(it.b) && it.b[it.i] == '"' {
		val, ok = it.str()
		if !ok {
			it.bad = true
			return nil, nil, false, false
		}
		return key, val, true, true
	}
	start := it.i
	end, ok := it.skipValue()
	if !ok {
		it.bad = true
		return nil, nil, false, false
	}
	return key, it.b[start:end], false, true
}

// str reads a string at it.i and returns its raw contents.
func (it *jsonIter) str() ([]byte, bool) {
	if it.i >= len(it.b) || it.b[it.i] != '"' {
		return nil, false
	}
	q := indexQuote(it.b[it.i+1:], true)
	if q < 0 {
		return nil, false
	}
	s := it.b[it.i+1 : it.i+1+q]
	it.i += q + 2
	return s, true
}

// skipValue skips a non-string value: a scalar up to the next ',' or '}',
// or a nested object or array. It returns where the value ends.
func (it *jsonIter) skipValue() (int, bool) {
	depth := 0
	start := it.i
	for it.i < len(it.b) {
		switch c := it.b[it.i]; c {
		case '"':
			if depth == 0 {
				return 0, false // a string after a scalar: malformed
			}
			if _, ok := it.str(); !ok {
				return 0, false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return it.i, it.i > start
			}
			depth--
		case ',':
			if depth == 0 {
				return it.i, it.i > start
			}
		case ' ', '\t', '\r', '\n':
			if depth == 0 {
				end := it.i
				it.ws()
				if it.i < len(it.b) && (it.b[it.i] == ',' || it.b[it.i] == '}') {
					return end, end > start
				}
				return 0, false
			}
		}
		it.i++
	}
	return 0, false
}
