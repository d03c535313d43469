package parsers

import (
	"bytes"
	"time"
)

// SyslogHeader is the prefix a syslog daemon or journalctl puts before the
// message: "Nov 20 10:01:02 host tag[pid]: " (classic, no year and no zone)
// or "2026-11-20T10:01:02.123456+00:00 host tag[pid]: " (RFC 3339 as rsyslog
// writes it, or journalctl -o short-iso's "+0000").
type SyslogHeader struct {
	Time   time.Time
	NoYear bool
	NoZone bool
	Tag    []byte
	PID    int
	Msg    []byte
}

// ParseSyslog splits a syslog line. ok is false when b does not start with
// one of the two stamps followed by a host and a "tag[pid]:" or "tag:".
// A leading "<PRI>" is skipped, and RFC 5424 lines ("<165>1 2026-11-20T10:01:02.5Z
// host app 1234 - - msg", as rsyslog's RSYSLOG_SyslogProtocol23Format
// writes them) are read too: Tag is the APP-NAME, PID the PROCID when it
// is a number, Msg what follows the structured data.
func ParseSyslog(b []byte, o Options) (h SyslogHeader, ok bool) {
	if len(b) > 2 && b[0] == '<' {
		k := bytes.IndexByte(b[:min(len(b), 6)], '>')
		if k < 2 {
			return h, false
		}
		if _, okp := Digits(b[1:k]); !okp {
			return h, false
		}
		b = b[k+1:]
	}
	if len(b) > 2 && b[0] == '1' && b[1] == ' ' {
		return parse5424(b[2:])
	}
	var rest []byte
	switch {
	case len(b) > 16 && b[3] == ' ' && b[6] == ' ' && b[9] == ':' && b[12] == ':' && b[15] == ' ':
		mon, okm := Month(b[0:3])
		dd := b[4:6]
		if dd[0] == ' ' {
			dd = dd[1:]
		}
		day, okd := Digits(dd)
		hh, ok1 := Digits(b[7:9])
		mm, ok2 := Digits(b[10:12])
		ss, ok3 := Digits(b[13:15])
		year := o.InferYear(mon)
		if !(okm && okd && ok1 && ok2 && ok3) || !ValidClock(year, mon, day, hh, mm, ss) {
			return h, false
		}
		h.Time = time.Date(year, mon, day, hh, mm, ss, 0, o.Loc())
		h.NoYear, h.NoZone = true, true
		rest = b[16:]
	default:
		t, r, _, okt := ISOTime(b)
		if !okt || len(r) == 0 || r[0] != ' ' {
			return h, false
		}
		h.Time = t
		rest = r[1:]
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return h, false
	}
	rest = rest[sp+1:] // skip the host
	colon := bytes.IndexByte(rest, ':')
	if colon <= 0 || colon+1 >= len(rest) || rest[colon+1] != ' ' {
		return h, false
	}
	tag := rest[:colon]
	if tag[len(tag)-1] == ']' {
		lb := bytes.LastIndexByte(tag, '[')
		if lb <= 0 {
			return h, false
		}
		pid, okp := Atoi(tag[lb+1 : len(tag)-1])
		if !okp {
			return h, false
		}
		h.PID = pid
		tag = tag[:lb]
	}
	if bytes.IndexByte(tag, ' ') >= 0 {
		return h, false
	}
	h.Tag = tag
	h.Msg = rest[colon+2:]
	return h, true
}

// parse5424 reads "TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG" (RFC
// 5424 after its version).
func parse5424(b []byte) (h SyslogHeader, ok bool) {
	t, r, _, okt := ISOTime(b)
	if !okt || len(r) == 0 || r[0] != ' ' {
		return h, false
	}
	h.Time = t
	r = r[1:]
	var f [4][]byte // HOSTNAME APP-NAME PROCID MSGID
	for i := range f {
		sp := bytes.IndexByte(r, ' ')
		if sp <= 0 {
			return h, false
		}
		f[i], r = r[:sp], r[sp+1:]
	}
	if string(f[1]) != "-" {
		h.Tag = f[1]
	}
	if pid, okp := Atoi(f[2]); okp {
		h.PID = pid
	}
	// STRUCTURED-DATA: "-" or one or more [id param="value" …] elements,
	// where ']' inside a value is escaped with '\'.
	switch {
	case len(r) > 0 && r[0] == '-':
		r = r[1:]
	case len(r) > 0 && r[0] == '[':
		for len(r) > 0 && r[0] == '[' {
			i := 1
			for ; i < len(r) && r[i] != ']'; i++ {
				if r[i] == '\\' {
					i++
				}
			}
			if i >= len(r) {
				return h, false
			}
			r = r[i+1:]
		}
	default:
		return h, false
	}
	if len(r) > 0 {
		if r[0] != ' ' {
			return h, false
		}
		r = r[1:]
	}
	h.Msg = bytes.TrimPrefix(r, []byte("\xEF\xBB\xBF")) // the BOM RFC 5424 allows
	return h, true
}

// ISOTime parses "2026-11-20T10:01:02" with an optional fraction ('.' or
// ',') and a zone "Z", "+00:00" or "+0000". The result is in UTC (a fixed
// zone would allocate); comma reports a ',' fraction (dmesg --time-format iso).
func ISOTime(b []byte) (t time.Time, rest []byte, comma bool, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return t, nil, false, false
	}
	year, ok1 := Digits(b[0:4])
	mon, ok2 := Digits(b[5:7])
	day, ok3 := Digits(b[8:10])
	hh, ok4 := Digits(b[11:13])
	mm, ok5 := Digits(b[14:16])
	ss, ok6 := Digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !ValidClock(year, time.Month(mon), day, hh, mm, ss) {
		return t, nil, false, false
	}
	i, nsec := 19, 0
	if b[i] == '.' || b[i] == ',' {
		comma = b[i] == ','
		j := i + 1
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			if j < i+10 {
				nsec = nsec*10 + int(b[j]-'0')
			}
			j++
		}
		if j == i+1 {
			return t, nil, false, false
		}
		for k := j - i - 1; k < 9; k++ {
			nsec *= 10
		}
		i = j
	}
	if i >= len(b) {
		return t, nil, false, false
	}
	off := 0
	switch b[i] {
	case 'Z':
		i++
	case '+', '-':
		neg := b[i] == '-'
		z := b[i+1:]
		var zh, zm int
		var okh, okm bool
		switch {
		case len(z) >= 5 && z[2] == ':':
			zh, okh = Digits(z[0:2])
			zm, okm = Digits(z[3:5])
			i += 6
		case len(z) >= 4:
			zh, okh = Digits(z[0:2])
			zm, okm = Digits(z[2:4])
			i += 5
		}
		if !okh || !okm || zh > 23 || zm > 59 {
			return t, nil, false, false
		}
		off = zh*3600 + zm*60
		if neg {
			off = -off
		}
	default:
		return t, nil, false, false
	}
	t = time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, time.UTC).Add(-time.Duration(off) * time.Second)
	return t, b[i:], comma, true
}
