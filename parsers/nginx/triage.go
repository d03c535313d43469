package nginx

import (
	"bytes"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// combinedHead is the start every combined-like format shares, up to and
// including $status.
var combinedHead = []string{"$remote_addr", " - ", "$remote_user", " [", "$time_local", "] \"", "$request", "\" ", "$status"}

// hasCombinedHead reports whether f begins like combined (combined, main,
// and most custom formats that append fields to it).
func (f *Format) hasCombinedHead() bool {
	if f.esc == EscapeNone || len(f.items) < len(combinedHead) {
		return false
	}
	for i, want := range combinedHead {
		it := &f.items[i]
		if it.lit != nil {
			if string(it.lit) != want {
				return false
			}
		} else if "$"+it.name != want {
			return false
		}
	}
	return true
}

// NewAccessTriage returns a parser for bulk analysis. For formats that begin
// like combined it reads only the time and the status of a line, which is
// all the correlator needs of a request that did not fail, and parses the
// whole line (exactly as NewAccess) only for gateway statuses (502/503/504),
// for 499 (a client that gave up, whose $request_time tells Cloudflare's
// 100 s timeout) and for lines the quick path cannot vouch for. Events of other statuses
// carry Kind, Time and Status only.
//
// Unlike NewAccess the returned func keeps a one-entry cache of the last
// time stamp, so it must not be shared between goroutines.
func NewAccessTriage(f *Format, o parsers.Options) parsers.Func {
	exact := NewAccess(f, o)
	if !f.hasCombinedHead() {
		return exact
	}
	// The quick path accepts any combined-like line; a gateway line it hands
	// on must not then be lost because it deviates from f past $status.
	loose := NewAccess(Combined(), o)
	full := func(line []byte) (parsers.Event, error) {
		ev, err := exact(line)
		if err != nil {
			if ev2, err2 := loose(line); err2 == nil {
				return ev2, nil
			}
		}
		return ev, err
	}
	var lastStamp [26]byte
	var lastTime time.Time
	return func(line []byte) (parsers.Event, error) {
		// [$time_local] is the first '[' : $remote_addr and "-" hold none
		// (a $remote_user with '[' falls back to the full parse below).
		i := bytes.IndexByte(line, '[')
		if i < 0 || len(line) < i+30 || line[i+27] != ']' || line[i+28] != ' ' || line[i+29] != '"' {
			return full(line)
		}
		stamp := line[i+1 : i+27]
		var t time.Time
		if string(stamp) == string(lastStamp[:]) && !lastTime.IsZero() {
			t = lastTime
		} else {
			var ok bool
			if t, ok = parseTimeLocal(stamp); !ok {
				return full(line)
			}
			copy(lastStamp[:], stamp)
			lastTime = t
		}
		// "$request" ends at the next '"': nginx writes a '"' inside a value as \x22.
		rest := line[i+30:]
		q := bytes.IndexByte(rest, '"')
		if q < 0 || len(rest) < q+5 || rest[q+1] != ' ' {
			return full(line)
		}
		s := rest[q+2 : q+5]
		if s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
			(len(rest) > q+5 && rest[q+5] != ' ') {
			return full(line)
		}
		status := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
		if status == 502 || status == 503 || status == 504 || status == 499 {
			return full(line)
		}
		return parsers.Event{Time: t, Kind: parsers.KindAccess, Status: status, RequestTime: -1, UpstreamTime: -1, Bytes: -1}, nil
	}
}
