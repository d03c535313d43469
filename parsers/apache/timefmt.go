package apache

import (
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// parseCLFTime parses %t: "[20/Nov/2026:10:01:02 +0100]". The result is in
// UTC (the instant is exact; a FixedZone would allocate per line).
func parseCLFTime(b []byte) (time.Time, bool) {
	// [dd/Mon/yyyy:hh:mm:ss +zzzz]
	if len(b) != 28 || b[27] != ']' || b[21] != ' ' {
		return time.Time{}, false
	}
	t, ok := clfClock(b, time.UTC)
	off, okOff := parseOffset(b[22:27])
	if !ok || !okOff {
		return time.Time{}, false
	}
	return t.Add(-off), true
}

// parseCLFNoZone parses "[dd/Mon/yyyy:hh:mm:ss]" (also with a space before
// the bracket): what a custom format with %{%d/%b/%Y:%H:%M:%S}t in
// brackets writes. The time is in loc.
func parseCLFNoZone(b []byte, loc *time.Location) (time.Time, bool) {
	if !(len(b) == 22 || len(b) == 23 && b[21] == ' ') || b[len(b)-1] != ']' {
		return time.Time{}, false
	}
	return clfClock(b, loc)
}

// clfClock reads the "[dd/Mon/yyyy:hh:mm:ss" both forms begin with, as a
// time in loc. b is at least 21 bytes long.
func clfClock(b []byte, loc *time.Location) (time.Time, bool) {
	if b[0] != '[' || b[3] != '/' || b[7] != '/' || b[12] != ':' || b[15] != ':' || b[18] != ':' {
		return time.Time{}, false
	}
	day, ok1 := parsers.Digits(b[1:3])
	mon, ok2 := parsers.Month(b[4:7])
	year, ok3 := parsers.Digits(b[8:12])
	hh, ok4 := parsers.Digits(b[13:15])
	mm, ok5 := parsers.Digits(b[16:18])
	ss, ok6 := parsers.Digits(b[19:21])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !parsers.ValidClock(year, mon, day, hh, mm, ss) {
		return time.Time{}, false
	}
	return time.Date(year, mon, day, hh, mm, ss, 0, loc), true
}

// parseOffset parses "+0100" / "-0530".
func parseOffset(b []byte) (time.Duration, bool) {
	if len(b) != 5 || (b[0] != '+' && b[0] != '-') {
		return 0, false
	}
	h, ok1 := parsers.Digits(b[1:3])
	m, ok2 := parsers.Digits(b[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if b[0] == '-' {
		d = -d
	}
	return d, true
}

// parseStrftime reads b as written by strftime(layout) for the conversions
// Apache users put in %{…}t: %Y %m %d %e %H %M %S %T %F %b %h %B(skipped as
// letters) %a %A %y %j(ignored) %z %Z(letters) %s %%. hasZone reports a %z
// (or %s); without it the time is in loc.
func parseStrftime(layout string, b []byte, loc *time.Location) (t time.Time, hasZone, ok bool) {
	year, mon, day := -1, time.Month(0), 1
	hh, mm, ss := 0, 0, 0
	var off time.Duration
	epoch := int64(-1)
	p := 0
	num := func(n int, space bool) (int, bool) {
		if space && p < len(b) && b[p] == ' ' {
			p++
			n--
		}
		if p+n > len(b) {
			return 0, false
		}
		v, ok := parsers.Digits(b[p : p+n])
		p += n
		return v, ok
	}
	letters := func() bool {
		s := p
		for p < len(b) && (b[p]|0x20 >= 'a' && b[p]|0x20 <= 'z') {
			p++
		}
		return p > s
	}
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 == len(layout) {
			if p >= len(b) || b[p] != c {
				return time.Time{}, false, false
			}
			p++
			continue
		}
		i++
		var ok bool
		switch layout[i] {
		case 'Y':
			year, ok = num(4, false)
		case 'y':
			var y int
			y, ok = num(2, false)
			year = 2000 + y
			if y >= 69 {
				year = 1900 + y
			}
		case 'm':
			var v int
			v, ok = num(2, false)
			mon = time.Month(v)
		case 'd':
			day, ok = num(2, false)
		case 'e':
			day, ok = num(2, true)
		case 'H':
			hh, ok = num(2, false)
		case 'M':
			mm, ok = num(2, false)
		case 'S':
			ss, ok = num(2, false)
		case 'T':
			hh, ok = num(2, false)
			if ok && p < len(b) && b[p] == ':' {
				p++
				mm, ok = num(2, false)
				if ok && p < len(b) && b[p] == ':' {
					p++
					ss, ok = num(2, false)
				} else {
					ok = false
				}
			} else {
				ok = false
			}
		case 'F':
			year, ok = num(4, false)
			if ok && p < len(b) && b[p] == '-' {
				p++
				var v int
				v, ok = num(2, false)
				mon = time.Month(v)
				if ok && p < len(b) && b[p] == '-' {
					p++
					day, ok = num(2, false)
				} else {
					ok = false
				}
			} else {
				ok = false
			}
		case 'b', 'h':
			if p+3 <= len(b) {
				mon, ok = parsers.Month(b[p : p+3])
				p += 3
			}
		case 'a', 'A', 'B', 'Z', 'p':
			ok = letters()
		case 'j':
			_, ok = num(3, false)
		case 'z':
			if p+5 <= len(b) {
				off, ok = parseOffset(b[p : p+5])
				p += 5
				hasZone = true
			}
		case 's':
			s := p
			for p < len(b) && b[p] >= '0' && b[p] <= '9' {
				p++
			}
			var v int
			v, ok = parsers.Atoi(b[s:p])
			epoch = int64(v)
		case '%':
			ok = p < len(b) && b[p] == '%'
			p++
		default:
			return time.Time{}, false, false // conversion we do not read
		}
		if !ok {
			return time.Time{}, false, false
		}
	}
	if p != len(b) {
		return time.Time{}, false, false
	}
	if epoch >= 0 {
		return time.Unix(epoch, 0).UTC(), true, true
	}
	if year < 0 || mon == 0 || !parsers.ValidClock(year, mon, day, hh, mm, ss) {
		return time.Time{}, false, false
	}
	if hasZone {
		return time.Date(year, mon, day, hh, mm, ss, 0, time.UTC).Add(-off), true, true
	}
	return time.Date(year, mon, day, hh, mm, ss, 0, loc), false, true
}
