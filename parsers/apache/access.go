package apache

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

var (
	errNotFormat  = fmt.Errorf("%w: not in the LogFormat", parsers.ErrNoMatch)
	errAmbiguous  = fmt.Errorf("%w: too ambiguous for the LogFormat", parsers.ErrNoMatch)
	errAccessTime = fmt.Errorf("%w: bad %%t time stamp", parsers.ErrNoMatch)
	errStatus     = fmt.Errorf("%w: bad status", parsers.ErrNoMatch)
	errNoClient   = fmt.Errorf("%w: no client address where the format has one", parsers.ErrNoMatch)
)

// NewAccess returns a parser for access-log lines written in format f.
// Events are KindAccess. Fields the format logs fill the Event:
//
//   - Status: %>s, else %s / %<s (the original status).
//   - RemoteAddr: %{c}a, else %a, else %h. Client: %{CF-Connecting-IP}i,
//     else the first element of %{X-Forwarded-For}i, else %a, else %h.
//   - Time: %t (zoned; returned in UTC), %{strftime}t (NoZone unless it has
//     %z; o.Loc() is used), %{sec|msec|usec}t, plus %{msec_frac|usec_frac}t.
//   - Request, Method, URI, Protocol: %r, overridden by %m, %U%q, %H.
//   - Bytes: %B, else %b, else %O ("-" is 0: CLF writes it for no body);
//     -1 when none is logged.
//   - RequestTime (µs): %D / %{us}T, else %{ms}T, else %T; -1 when absent.
//   - Host: %{Host}i, else %V, else %v. CFRay, UserAgent, Referer from their
//     request headers; PID from %P.
//
// Values that are "-" leave their field unset. A line that does not match
// the format, or whose time stamp or status is malformed, gives ErrNoMatch.

func NewAccess(f *Format, o parsers.Options) parsers.Func {
	loc := o.Loc()
	return func(line []byte) (parsers.Event, error) {
		return parseAccess(f, loc, line)
	}
}

func parseAccess(f *Format, loc *time.Location, line []byte) (parsers.Event, error) {
	m := matcher{line: line, items: f.items, prefix: f.prefix, budget: matchBudget, optEnd: f.optEnd}
	if !m.match(0, 0) {
		if m.budget < 0 {
			return parsers.Event{}, errAmbiguous
		}
		return parsers.Event{}, errNotFormat
	}
	ev := parsers.Event{Kind: parsers.KindAccess, RequestTime: -1, UpstreamTime: -1, Bytes: -1}
	var (
		clientRank, remoteRank, hostRank, statusRank, bytesRank, durRank int
		frac                                                             time.Duration
		pathSpan, querySpan                                              = span{-1, -1}, span{-1, -1}
	)
	for i := range f.items[:m.upto] {
		it := &f.items[i]
		if it.field == fNone || it.field == fOther {
			continue
		}
		sp := m.caps[it.idx]
		v := line[sp.s:sp.e]
		dash := len(v) == 1 && v[0] == '-'
		if dash && it.field != fBytesCLF && it.field != fBytesOut && it.field != fBytesBody {
			continue
		}
		switch it.field {
		case fRemoteHost:
			setRanked(&ev.RemoteAddr, &remoteRank, 1, v)
			setRanked(&ev.Client, &clientRank, 1, v)
		case fRemoteIP:
			setRanked(&ev.RemoteAddr, &remoteRank, 2, v)
			setRanked(&ev.Client, &clientRank, 2, v)
		case fPeerIP:
			setRanked(&ev.RemoteAddr, &remoteRank, 3, v)
		case fXFF:
			if k := bytes.IndexByte(v, ','); k >= 0 {
				v = v[:k]
			}
			v = bytes.TrimSpace(v)
			if len(v) > 0 {
				setRanked(&ev.Client, &clientRank, 3, v)
			}
		case fCFIP:
			setRanked(&ev.Client, &clientRank, 4, v)
		case fTimeCLF:
			t, ok := parseCLFTime(v)
			if ok {
				ev.Time, ev.NoZone = t, false
			} else if t, ok = parseCLFNoZone(v, loc); ok {
				ev.Time, ev.NoZone = t, true
			} else {
				return parsers.Event{}, errAccessTime
			}
		case fTimeFmt:
			t, zoned, ok := parseStrftime(it.arg, v, loc)
			if ok && ev.Time.IsZero() {
				ev.Time, ev.NoZone = t, !zoned
			}
		case fTimeSec, fTimeMsec, fTimeUsec:
			n, ok := parsers.Atoi(v)
			if ok && (ev.Time.IsZero() || ev.NoZone) {
				switch it.field {
				case fTimeSec:
					ev.Time = time.Unix(int64(n), 0).UTC()
				case fTimeMsec:
					ev.Time = time.UnixMilli(int64(n)).UTC()
				default:
					ev.Time = time.UnixMicro(int64(n)).UTC()
				}
				ev.NoZone = false
			}
		case fTimeMsecFrac, fTimeUsecFrac:
			if n, ok := parsers.Atoi(v); ok && n < 1_000_000 {
				if it.field == fTimeMsecFrac {
					frac = time.Duration(n) * time.Millisecond
				} else {
					frac = time.Duration(n) * time.Microsecond
				}
			}
		case fRequest:
			ev.Request = v
			meth, uri, proto := splitRequest(v)
			if ev.Method == nil {
				ev.Method = meth
			}
			if ev.URI == nil {
				ev.URI = uri
			}
			if ev.Protocol == nil {
				ev.Protocol = proto
			}
		case fMethod:
			ev.Method = v
		case fPath:
			pathSpan = sp
		case fQuery:
			querySpan = sp
		case fProto:
			ev.Protocol = v
		case fStatusFinal, fStatusOrig:
			n, ok := parsers.Atoi(v)
			if !ok || n > 999 {
				return parsers.Event{}, errStatus
			}
			rank := 1
			if it.field == fStatusFinal {
				rank = 2
			}
			if rank > statusRank {
				ev.Status, statusRank = n, rank
			}
		case fBytesCLF, fBytesBody, fBytesOut:
			n := 0
			if !dash {
				var ok bool
				if n, ok = parsers.Atoi(v); !ok {
					continue
				}
			}
			rank := map3(it.field, fBytesOut, fBytesCLF, fBytesBody)
			if rank > bytesRank {
				ev.Bytes, bytesRank = int64(n), rank
			}
		case fDurUs, fDurMs, fDurSec:
			n, ok := parsers.Atoi(v)
			if !ok {
				continue
			}
			rank := map3(it.field, fDurSec, fDurMs, fDurUs)
			if rank > durRank {
				mul := int64(1)
				switch it.field {
				case fDurMs:
					mul = 1000
				case fDurSec:
					mul = 1_000_000
				}
				if int64(n) > math.MaxInt64/mul {
					continue // would wrap negative: not a duration
				}
				ev.RequestTime, durRank = int64(n)*mul, rank
			}
		case fHostHeader:
			setRanked(&ev.Host, &hostRank, 3, v)
		case fServerName:
			setRanked(&ev.Host, &hostRank, 2, v)
		case fVHost:
			setRanked(&ev.Host, &hostRank, 1, v)
		case fCFRay:
			ev.CFRay = v
		case fUserAgent:
			ev.UserAgent = v
		case fReferer:
			ev.Referer = v
		case fPID:
			if n, ok := parsers.Atoi(v); ok {
				ev.PID = n
			}
		}
	}
	if pathSpan.s >= 0 {
		if querySpan.s == pathSpan.e {
			ev.URI = line[pathSpan.s:querySpan.e]
		} else {
			ev.URI = line[pathSpan.s:pathSpan.e]
		}
	}
	if frac != 0 && !ev.Time.IsZero() && ev.Time.Nanosecond() == 0 {
		ev.Time = ev.Time.Add(frac)
	}
	if f.needClient && clientRank == 0 {
		return parsers.Event{}, errNoClient
	}
	if f.prefix && durRank == 0 {
		if us, ok := trailingTD(line[m.end:]); ok {
			ev.RequestTime = us
		}
	}
	return ev, nil
}

func setRanked(dst *[]byte, cur *int, rank int, v []byte) {
	if rank > *cur {
		*dst, *cur = v, rank
	}
}

// map3 ranks f among three fields, lowest first.
func map3(f, low, mid, high field) int {
	switch f {
	case low:
		return 1
	case mid:
		return 2
	case high:
		return 3
	}
	return 0
}

// splitRequest splits "GET /x HTTP/1.1". A line without spaces (garbage a
// client sent) gives only a method-less URI of nil: the caller keeps
// Request.
func splitRequest(r []byte) (method, uri, proto []byte) {
	sp := bytes.IndexByte(r, ' ')
	if sp <= 0 {
		return nil, nil, nil
	}
	method = r[:sp]
	rest := r[sp+1:]
	if k := bytes.LastIndexByte(rest, ' '); k >= 0 && bytes.HasPrefix(rest[k+1:], []byte("HTTP/")) {
		return method, rest[:k], rest[k+1:]
	}
	return method, rest, nil // HTTP/0.9 style "GET /"
}

// trailingTD reads the text after a built-in format for " T/D" (%T/%D, the
// pairing the Apache docs suggest) and returns D when T == D/1e6.
func trailingTD(rest []byte) (int64, bool) {
	if len(rest) < 4 || rest[0] != ' ' {
		return 0, false
	}
	rest = rest[1:]
	if k := bytes.IndexByte(rest, ' '); k >= 0 {
		rest = rest[:k]
	}
	slash := bytes.IndexByte(rest, '/')
	if slash <= 0 {
		return 0, false
	}
	t, ok1 := parsers.Atoi(rest[:slash])
	d, ok2 := parsers.Atoi(rest[slash+1:])
	if !ok1 || !ok2 || d/1_000_000 != t {
		return 0, false
	}
	return int64(d), true
}
