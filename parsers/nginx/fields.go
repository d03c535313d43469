package nginx

import (
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// field is a log_format variable (or JSON key) the parser understands.
type field uint8

const (
	fUnknown field = iota
	fRemoteAddr
	fCFConnectingIP
	fXForwardedFor
	fRemoteUser
	fTimeLocal
	fTimeISO
	fMsec
	fAnyTime // JSON "@timestamp", "timestamp", "time": shape decides
	fRequest
	fMethod
	fRequestURI
	fURI
	fArgs
	fProtocol
	fStatus
	fBodyBytes
	fBytesSent
	fReferer
	fUserAgent
	fRequestTime
	fUpstreamStatus
	fUpstreamResponseTime
	fUpstreamConnectTime
	fUpstreamHeaderTime
	fUpstreamAddr
	fHost
	fHTTPHost
	fServerName
	fCFRay
	fConnection
	fPID
	fRequestLength
)

// variables maps nginx variable names to fields. Read only.
var variables = map[string]field{
	"remote_addr":            fRemoteAddr,
	"http_cf_connecting_ip":  fCFConnectingIP,
	"http_x_forwarded_for":   fXForwardedFor,
	"remote_user":            fRemoteUser,
	"time_local":             fTimeLocal,
	"time_iso8601":           fTimeISO,
	"msec":                   fMsec,
	"request":                fRequest,
	"request_method":         fMethod,
	"request_uri":            fRequestURI,
	"uri":                    fURI,
	"document_uri":           fURI,
	"args":                   fArgs,
	"query_string":           fArgs,
	"server_protocol":        fProtocol,
	"status":                 fStatus,
	"body_bytes_sent":        fBodyBytes,
	"bytes_sent":             fBytesSent,
	"http_referer":           fReferer,
	"http_user_agent":        fUserAgent,
	"request_time":           fRequestTime,
	"upstream_status":        fUpstreamStatus,
	"upstream_response_time": fUpstreamResponseTime,
	"upstream_connect_time":  fUpstreamConnectTime,
	"upstream_header_time":   fUpstreamHeaderTime,
	"upstream_addr":          fUpstreamAddr,
	"host":                   fHost,
	"http_host":              fHTTPHost,
	"server_name":            fServerName,
	"http_cf_ray":            fCFRay,
	"connection":             fConnection,
	"pid":                    fPID,
	"request_length":         fRequestLength,
}

// shape is how a variable's value is delimited in a line.
type shape uint8

const (
	shapeFree      shape = iota // runs up to the next literal
	shapeTimeLocal              // exactly 26 bytes: 20/Nov/2026:10:01:02 +0000
	shapeTimeISO                // exactly 25 bytes: 2026-11-20T10:01:02+00:00
	shapeStatus                 // exactly 3 digits
	shapeNumber                 // digits and dots, or "-"
	shapeList                   // upstream lists: items joined by ", " or " : "
)

func shapeOf(f field) shape {
	switch f {
	case fTimeLocal:
		return shapeTimeLocal
	case fTimeISO:
		return shapeTimeISO
	case fStatus:
		return shapeStatus
	case fMsec, fBodyBytes, fBytesSent, fRequestTime, fConnection, fPID, fRequestLength:
		return shapeNumber
	case fUpstreamStatus, fUpstreamResponseTime, fUpstreamConnectTime, fUpstreamHeaderTime, fUpstreamAddr:
		return shapeList
	}
	return shapeFree
}

// record collects the raw values of one line before they are resolved into
// an Event, because several variables compete for one Event field
// ($http_cf_connecting_ip over $remote_addr, $request_uri over $request…)
// and a format may list them in any order.
type record struct {
	remoteAddr, cfIP, xff               []byte
	request, method, requestURI, uri    []byte
	args, protocol, host, httpHost      []byte
	serverName, bodyBytes, bytesSent    []byte
	status, requestTime, upstreamTime   []byte
	upstreamStatus, upstreamAddr, cfRay []byte
	referer, userAgent, connection, pid []byte
	timeLocal, timeISO, msec, anyTime   []byte
}

// set stores v as the value of f. It keeps the first value seen for a field
// so that a format's own variables win over key=value extras scanned later.
func (r *record) set(f field, v []byte) {
	p := r.slot(f)
	if p != nil && *p == nil {
		*p = v
	}
}

func (r *record) slot(f field) *[]byte {
	switch f {
	case fRemoteAddr:
		return &r.remoteAddr
	case fCFConnectingIP:
		return &r.cfIP
	case fXForwardedFor:
		return &r.xff
	case fTimeLocal:
		return &r.timeLocal
	case fTimeISO:
		return &r.timeISO
	case fMsec:
		return &r.msec
	case fAnyTime:
		return &r.anyTime
	case fRequest:
		return &r.request
	case fMethod:
		return &r.method
	case fRequestURI:
		return &r.requestURI
	case fURI:
		return &r.uri
	case fArgs:
		return &r.args
	case fProtocol:
		return &r.protocol
	case fStatus:
		return &r.status
	case fBodyBytes:
		return &r.bodyBytes
	case fBytesSent:
		return &r.bytesSent
	case fReferer:
		return &r.referer
	case fUserAgent:
		return &r.userAgent
	case fRequestTime:
		return &r.requestTime
	case fUpstreamStatus:
		return &r.upstreamStatus
	case fUpstreamResponseTime:
		return &r.upstreamTime
	case fUpstreamAddr:
		return &r.upstreamAddr
	case fHost:
		return &r.host
	case fHTTPHost:
		return &r.httpHost
	case fServerName:
		return &r.serverName
	case fCFRay:
		return &r.cfRay
	case fConnection:
		return &r.connection
	case fPID:
		return &r.pid
	}
	return nil
}

// event resolves the record into an access Event. ok is false when the
// status is missing or not a 3-digit number: without it the line is not an
// access-log line this parser understands.
func (r *record) event() (ev parsers.Event, ok bool) {
	ev.Kind = parsers.KindAccess
	ev.RequestTime, ev.UpstreamTime, ev.Bytes = -1, -1, -1

	st := r.status
	if len(st) != 3 {
		return ev, false
	}
	n, ok := parsers.Digits(st)
	if !ok {
		return ev, false
	}
	ev.Status = n

	switch {
	case r.timeLocal != nil:
		ev.Time, _ = parseTimeLocal(r.timeLocal)
	case r.timeISO != nil:
		ev.Time, _ = parseISO(r.timeISO)
	}
	if ev.Time.IsZero() && r.anyTime != nil {
		ev.Time, _ = parseAnyTime(r.anyTime)
	}
	if ev.Time.IsZero() && r.msec != nil {
		ev.Time, _ = parseEpoch(r.msec)
	}

	var listHost []byte
	if ra := present(r.remoteAddr); plainWord(ra) {
		ev.RemoteAddr, ev.Client = ra, ra
	} else {
		listHost = resolveInto(ra, &ev)
	}
	if x := present(r.xff); x != nil && ev.Forwarded == nil {
		ev.Forwarded = x
	}
	if x := firstListItem(present(r.xff)); isAddr(x) {
		ev.Client = x
	}
	if c := present(r.cfIP); c != nil {
		ev.Client = c
	}

	if r.request != nil {
		ev.Request = r.request
		ev.Method, ev.URI, ev.Protocol = splitRequest(r.request)
	}
	if m := present(r.method); m != nil {
		ev.Method = m
	}
	switch {
	case present(r.requestURI) != nil:
		ev.URI = r.requestURI
	case ev.URI == nil && present(r.uri) != nil:
		ev.URI = r.uri // $args is separate and cannot be joined without allocating
	}
	if p := present(r.protocol); p != nil {
		ev.Protocol = p
	}

	for _, h := range [...][]byte{r.host, r.httpHost, r.serverName} {
		if h = present(h); h != nil {
			ev.Host = h
			break
		}
	}
	if ev.Host == nil {
		ev.Host = listHost
	}
	b := r.bodyBytes
	if b == nil {
		b = r.bytesSent
	}
	if v, ok := parsers.Atoi(b); ok {
		ev.Bytes = int64(v)
	}
	if us, ok := parsers.ParseSeconds(r.requestTime); ok {
		ev.RequestTime = us
	}
	if us, ok := parsers.ParseSeconds(firstListItem(r.upstreamTime)); ok {
		ev.UpstreamTime = us
	}
	ev.UpstreamStatus = r.upstreamStatus
	ev.Upstream = present(r.upstreamAddr)
	ev.CFRay = present(r.cfRay)
	ev.Referer = present(r.referer)
	ev.UserAgent = present(r.userAgent)
	if v, ok := parsers.Atoi(r.connection); ok {
		ev.ConnID = int64(v)
	}
	if v, ok := parsers.Atoi(r.pid); ok {
		ev.PID = v
	}
	return ev, true
}

// present returns nil for values nginx writes when a variable is not set:
// "-" (escape=default) and "" (escape=json).
func present(b []byte) []byte {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		return nil
	}
	return b
}

// firstListItem returns the first element of an nginx list value:
// "0.004, 0.002" and "0.004 : 0.002" both give "0.004"; so does an
// X-Forwarded-For "198.51.100.7, 162.158.1.1".
func firstListItem(b []byte) []byte {
	for i, c := range b {
		if c == ',' || c == ' ' {
			return b[:i]
		}
	}
	return b
}

// isAddr reports whether b looks like an IPv4 or IPv6 address (or one with
// a port), so a stray quoted field is not taken for a client address.
func isAddr(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	sep := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case c == '.' || c == ':':
			sep = true
		case c == '[' || c == ']':
		default:
			return false
		}
	}
	return sep
}

// splitRequest splits "GET /x?y HTTP/1.1" into its parts. A request line
// that is not three parts (garbage, HTTP/0.9 "GET /") yields what it can:
// nil parts are absent.
func splitRequest(r []byte) (method, uri, proto []byte) {
	sp := -1
	for i, c := range r {
		if c == ' ' {
			sp = i
			break
		}
	}
	if sp <= 0 {
		return nil, nil, nil
	}
	method, rest := r[:sp], r[sp+1:]
	last := -1
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == ' ' {
			last = i
			break
		}
	}
	if last >= 0 && hasPrefix(rest[last+1:], "HTTP/") {
		return method, rest[:last], rest[last+1:]
	}
	if len(rest) == 0 {
		return method, nil, nil
	}
	return method, rest, nil
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// parseTimeLocal parses $time_local, "20/Nov/2026:10:01:02 +0100". The
// result is in UTC (the instant is exact; building a zone would allocate).
func parseTimeLocal(b []byte) (time.Time, bool) {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := parsers.Digits(b[0:2])
	mon, ok2 := parsers.Month(b[3:6])
	year, ok3 := parsers.Digits(b[7:11])
	hh, ok4 := parsers.Digits(b[12:14])
	mm, ok5 := parsers.Digits(b[15:17])
	ss, ok6 := parsers.Digits(b[18:20])
	off, ok7 := parseOffset(b[21:], false)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || !parsers.ValidClock(year, mon, day, hh, mm, ss) {
		return time.Time{}, false
	}
	t := time.Date(year, mon, day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day { // 31/Feb: time.Date would roll it into March
		return time.Time{}, false
	}
	return t.Add(-off), true
}

// parseISO parses $time_iso8601 "2026-11-20T10:01:02+00:00" and the common
// variants JSON shippers write: fractional seconds, "Z", "+0000".
func parseISO(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := parsers.Digits(b[0:4])
	mon, ok2 := parsers.Digits(b[5:7])
	day, ok3 := parsers.Digits(b[8:10])
	hh, ok4 := parsers.Digits(b[11:13])
	mm, ok5 := parsers.Digits(b[14:16])
	ss, ok6 := parsers.Digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !parsers.ValidClock(year, time.Month(mon), day, hh, mm, ss) {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i, scale := 1, 100_000_000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	var off time.Duration
	if len(rest) == 1 && rest[0] == 'Z' {
		rest = nil
	} else {
		var ok bool
		if off, ok = parseOffset(rest, true); !ok {
			return time.Time{}, false
		}
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false
	}
	return t.Add(-off), true
}

// parseOffset parses "+0100", or with colon allowed also "+01:00".
func parseOffset(b []byte, colon bool) (time.Duration, bool) {
	var hh, mm int
	var ok1, ok2 bool
	switch {
	case len(b) == 5:
		hh, ok1 = parsers.Digits(b[1:3])
		mm, ok2 = parsers.Digits(b[3:5])
	case len(b) == 6 && colon && b[3] == ':':
		hh, ok1 = parsers.Digits(b[1:3])
		mm, ok2 = parsers.Digits(b[4:6])
	default:
		return 0, false
	}
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, false
	}
	d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
	switch b[0] {
	case '+':
		return d, true
	case '-':
		return -d, true
	}
	return 0, false
}

// parseEpoch parses $msec, "1795322944.824" (seconds since the epoch).
func parseEpoch(b []byte) (time.Time, bool) {
	us, ok := parsers.ParseSeconds(b)
	if !ok || us <= 0 {
		return time.Time{}, false
	}
	return time.Unix(us/1_000_000, (us%1_000_000)*1000).UTC(), true
}

// parseAnyTime accepts whichever of the time shapes b has.
func parseAnyTime(b []byte) (time.Time, bool) {
	if t, ok := parseTimeLocal(b); ok {
		return t, true
	}
	if t, ok := parseISO(b); ok {
		return t, true
	}
	return parseEpoch(b)
}
