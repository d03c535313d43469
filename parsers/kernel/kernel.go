// Package kernel parses kernel log records in every shape an origin has
// them: /dev/kmsg records, dmesg (plain, --time-format iso, -T), classic
// syslog kern.log, rsyslog's RFC 3339 files and journalctl -k (short,
// short-iso). It recognises the messages of the OOM killer and of user
// space faults (segfault, general protection, invalid opcode), which tell
// why a php-fpm worker vanished.
package kernel

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// New returns a kernel log parser.
//
// Lines from other programs in a syslog file return an error wrapping
// parsers.ErrNoMatch with "not a kernel line". /dev/kmsg continuation and
// dictionary lines (" SUBSYSTEM=acpi") are parsed as SigNone events. Time
// is zero for records that carry only a monotonic stamp (dmesg, /dev/kmsg);
// Monotonic is then set. Classic syslog stamps set NoYear and NoZone and
// use o.InferYear and o.Loc(); so does dmesg -T.
func New(o parsers.Options) parsers.Func {
	p := parser{opts: o}
	return p.parse
}

type parser struct{ opts parsers.Options }

var (
	errEmpty     = fmt.Errorf("empty line: %w", parsers.ErrNoMatch)
	errNotKernel = fmt.Errorf("not a kernel line: %w", parsers.ErrNoMatch)
	errFormat    = fmt.Errorf("no kernel log time stamp: %w", parsers.ErrNoMatch)
)

func (p parser) parse(line []byte) (parsers.Event, error) {
	line = trimEOL(line)
	if len(line) == 0 {
		return parsers.Event{}, errEmpty
	}
	ev := parsers.Event{Kind: parsers.KindKernel}
	c := line[0]
	switch {
	case c == ' ' || c == '\t':
		// /dev/kmsg continuation or dictionary line (" SUBSYSTEM=acpi").
		ev.Message = bytes.TrimLeft(line, " \t")
		return ev, nil
	case c >= '0' && c <= '9':
		if text, ok := kmsg(line, &ev); ok {
			classify(&ev, text)
			return ev, nil
		}
		t, rest, comma, ok := parsers.ISOTime(line)
		if !ok {
			return parsers.Event{}, errFormat
		}
		if comma { // dmesg --time-format iso: "2026-11-20T10:01:02,123456+00:00 text"
			if len(rest) == 0 || rest[0] != ' ' {
				return parsers.Event{}, errFormat
			}
			ev.Time = t
			classify(&ev, monotonic(rest[1:], &ev))
			return ev, nil
		}
	case c == '[':
		text, ok := dmesg(line, &ev, p.opts)
		if !ok {
			return parsers.Event{}, errFormat
		}
		classify(&ev, text)
		return ev, nil
	case isDictKey(line):
		ev.Message = line
		return ev, nil
	}
	h, ok := parsers.ParseSyslog(line, p.opts)
	if !ok {
		return parsers.Event{}, errFormat
	}
	if !bytes.Equal(h.Tag, []byte("kernel")) {
		return parsers.Event{}, errNotKernel
	}
	ev.Time, ev.NoYear, ev.NoZone = h.Time, h.NoYear, h.NoZone
	classify(&ev, monotonic(h.Msg, &ev))
	return ev, nil
}

// kmsg parses a /dev/kmsg record "prio,seq,usec,flags[,more];text".
func kmsg(b []byte, ev *parsers.Event) ([]byte, bool) {
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		return nil, false
	}
	head := b[:semi]
	var f [3]int
	for i := range f {
		n, used := leadingInt(head)
		if used == 0 || used >= len(head) || head[used] != ',' {
			return nil, false
		}
		f[i] = n
		head = head[used+1:]
	}
	if len(head) == 0 || (head[0] != '-' && head[0] != 'c' && head[0] != '+') {
		return nil, false
	}
	ev.Level = levelOf(f[0] & 7)
	ev.Seq = uint64(f[1])
	if f[2] > math.MaxInt64/int(time.Microsecond) {
		return nil, false // µs→ns would wrap: not a kmsg record
	}
	ev.Monotonic = time.Duration(f[2]) * time.Microsecond
	return b[semi+1:], true
}

// levelOf maps a syslog priority (0 emerg .. 7 debug).
func levelOf(p int) parsers.Level {
	switch p {
	case 0, 1, 2:
		return parsers.LevelCrit
	case 3:
		return parsers.LevelError
	case 4:
		return parsers.LevelWarn
	case 5:
		return parsers.LevelNotice
	case 6:
		return parsers.LevelInfo
	}
	return parsers.LevelDebug
}

// dmesg parses "[ 2385.985967] text" and dmesg -T's "[Sun Nov 22 04:48:13 2026] text".
func dmesg(b []byte, ev *parsers.Event, o parsers.Options) ([]byte, bool) {
	end := bytes.IndexByte(b, ']')
	if end < 0 {
		return nil, false
	}
	stamp := b[1:end]
	text := b[end+1:]
	if len(text) > 0 && text[0] == ' ' {
		text = text[1:]
	}
	if d, ok := seconds(stamp); ok {
		ev.Monotonic = d
		return text, true
	}
	// "Sun Nov 22 04:48:13 2026" (ctime; the day may be space-padded).
	if len(stamp) != 24 || stamp[3] != ' ' || stamp[7] != ' ' || stamp[10] != ' ' || stamp[13] != ':' || stamp[16] != ':' || stamp[19] != ' ' {
		return nil, false
	}
	mon, ok1 := parsers.Month(stamp[4:7])
	dd := stamp[8:10]
	if dd[0] == ' ' {
		dd = dd[1:]
	}
	day, ok2 := parsers.Digits(dd)
	hh, ok3 := parsers.Digits(stamp[11:13])
	mm, ok4 := parsers.Digits(stamp[14:16])
	ss, ok5 := parsers.Digits(stamp[17:19])
	year, ok6 := parsers.Digits(stamp[20:24])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !parsers.ValidClock(year, mon, day, hh, mm, ss) {
		return nil, false
	}
	ev.Time, ev.NoZone = time.Date(year, mon, day, hh, mm, ss, 0, o.Loc()), true
	return text, true
}

// monotonic strips the "[12345.678901] " stamp rsyslog's imklog and
// journalctl keep at the start of some kernel messages.
func monotonic(text []byte, ev *parsers.Event) []byte {
	if len(text) < 3 || text[0] != '[' {
		return text
	}
	end := bytes.IndexByte(text, ']')
	if end < 0 {
		return text
	}
	d, ok := seconds(text[1:end])
	if !ok {
		return text
	}
	ev.Monotonic = d
	text = text[end+1:]
	if len(text) > 0 && text[0] == ' ' {
		text = text[1:]
	}
	return text
}

// seconds parses a space-padded "   12.345678".
func seconds(b []byte) (time.Duration, bool) {
	b = bytes.TrimLeft(b, " ")
	if len(b) == 0 || bytes.IndexByte(b, '.') < 0 {
		return 0, false
	}
	us, ok := parsers.ParseSeconds(b)
	if !ok || us > int64(math.MaxInt64/time.Microsecond) {
		return 0, false // µs→ns would wrap
	}
	return time.Duration(us) * time.Microsecond, true
}

// isDictKey reports a bare "KEY=value" /dev/kmsg dictionary line.
func isDictKey(b []byte) bool {
	eq := bytes.IndexByte(b, '=')
	if eq <= 0 {
		return false
	}
	for _, c := range b[:eq] {
		if !(c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// leadingInt parses the digits at the start of b and says how many it used.
func leadingInt(b []byte) (n, used int) {
	for used < len(b) && used < 18 && b[used] >= '0' && b[used] <= '9' {
		n = n*10 + int(b[used]-'0')
		used++
	}
	return n, used
}
