package parsers

import "time"

// Small allocation-free helpers shared by the format packages.

// Atoi parses a non-negative decimal integer. ok is false for empty input,
// any non-digit, or overflow past 1<<62.
func Atoi(b []byte) (n int, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		// Check before multiplying: n*10 past 1<<63 wraps negative and
		// would slip under a check made afterwards.
		if n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ParseDuration parses a decimal number of seconds such as "0.005", "12",
// "1.000" into microseconds. ok is false for "-" or anything else.
func ParseSeconds(b []byte) (us int64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	var whole, frac int64
	var fracDigits int
	seenDot := false
	for _, c := range b {
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9':
			if seenDot {
				if fracDigits < 6 {
					frac = frac*10 + int64(c-'0')
					fracDigits++
				}
			} else {
				whole = whole*10 + int64(c-'0')
				if whole > 1<<40 {
					return 0, false
				}
			}
		default:
			return 0, false
		}
	}
	for ; fracDigits < 6; fracDigits++ {
		frac *= 10
	}
	return whole*1_000_000 + frac, true
}

// Month parses an English three-letter month abbreviation ("Nov").
func Month(b []byte) (time.Month, bool) {
	if len(b) != 3 {
		return 0, false
	}
	k := uint32(b[0]|0x20)<<16 | uint32(b[1]|0x20)<<8 | uint32(b[2]|0x20)
	for i, m := range monthKeys {
		if k == m {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// monthKeys are "jan".."dec" packed into three bytes.
var monthKeys = [12]uint32{0x6a616e, 0x666562, 0x6d6172, 0x617072, 0x6d6179, 0x6a756e, 0x6a756c, 0x617567, 0x736570, 0x6f6374, 0x6e6f76, 0x646563}

// Digits parses exactly len(b) decimal digits.
func Digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// ValidClock reports whether the parts form a plausible date and time, so a
// parser can reject garbage before time.Date normalises it silently.
func ValidClock(year int, month time.Month, day, hour, min, sec int) bool {
	return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
		hour >= 0 && hour <= 23 && min >= 0 && min <= 59 && sec >= 0 && sec <= 60
}
