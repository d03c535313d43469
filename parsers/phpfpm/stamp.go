package phpfpm

import (
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// bracketTime parses php-fpm's own stamp "[20-Nov-2026 10:01:02] " or, at
// log_level = debug, "[20-Nov-2026 10:01:02.123456] ". It returns the time
// in loc and the rest of the line after "] ".
func bracketTime(b []byte, loc *time.Location) (time.Time, []byte, bool) {
	if len(b) < 22 || b[0] != '[' || b[3] != '-' || b[7] != '-' || b[12] != ' ' || b[15] != ':' || b[18] != ':' {
		return time.Time{}, nil, false
	}
	day, ok1 := parsers.Digits(b[1:3])
	mon, ok2 := parsers.Month(b[4:7])
	year, ok3 := parsers.Digits(b[8:12])
	hh, ok4 := parsers.Digits(b[13:15])
	mm, ok5 := parsers.Digits(b[16:18])
	ss, ok6 := parsers.Digits(b[19:21])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !parsers.ValidClock(year, mon, day, hh, mm, ss) {
		return time.Time{}, nil, false
	}
	i, nsec := 21, 0
	if b[i] == '.' {
		j := i + 1
		for j < len(b) && j < i+10 && b[j] >= '0' && b[j] <= '9' {
			nsec = nsec*10 + int(b[j]-'0')
			j++
		}
		if j == i+1 {
			return time.Time{}, nil, false
		}
		for k := j - i - 1; k < 9; k++ {
			nsec *= 10
		}
		i = j
	}
	if i >= len(b) || b[i] != ']' {
		return time.Time{}, nil, false
	}
	rest := b[i+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return time.Date(year, mon, day, hh, mm, ss, nsec, loc), rest, true
}
