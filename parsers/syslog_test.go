package parsers

import (
	"testing"
	"time"
)

func TestParseSyslog(t *testing.T) {
	o := Options{Location: time.UTC, Ref: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		line             string
		ok               bool
		tag, msg         string
		pid              int
		year             int
		noYear, noZoneOK bool
	}{
		{"Dec 31 23:59:59 web1 kernel: [1.5] Out of memory", true, "kernel", "[1.5] Out of memory", 0, 2025, true, true},
		{"Nov  2 10:01:02 web1 php-fpm[4100]: [WARNING] [pool www] x", true, "php-fpm", "[WARNING] [pool www] x", 4100, 2025, true, true},
		{"2026-11-20T10:01:02.123456+00:00 web1 php-fpm8.2[7]: [NOTICE] y", true, "php-fpm8.2", "[NOTICE] y", 7, 2026, false, false},
		{"2026-11-20T10:01:02+0000 web1 kernel: z", true, "kernel", "z", 0, 2026, false, false},
		{"Nov 20 25:01:02 web1 kernel: bad hour", false, "", "", 0, 0, false, false},
		{"just text", false, "", "", 0, 0, false, false},
	}
	for _, tc := range cases {
		h, ok := ParseSyslog([]byte(tc.line), o)
		if ok != tc.ok {
			t.Errorf("%q: ok %v", tc.line, ok)
			continue
		}
		if !ok {
			continue
		}
		if string(h.Tag) != tc.tag || string(h.Msg) != tc.msg || h.PID != tc.pid || h.Time.Year() != tc.year || h.NoYear != tc.noYear {
			t.Errorf("%q: got %+v", tc.line, h)
		}
	}
}
