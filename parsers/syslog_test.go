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
		{"<165>1 2026-11-20T10:01:02.5Z web1 nginx 983479 - - 2026/11/20 10:01:02 [error] x", true, "nginx", "2026/11/20 10:01:02 [error] x", 983479, 2026, false, false},
		{"1 2026-11-20T10:01:02+01:00 web1 apache2 - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"a\\]b\"][x@1 y=\"z\"] \xEF\xBB\xBF[core:error] y", true, "apache2", "[core:error] y", 0, 2026, false, false},
		{"<13>Nov  2 10:01:02 web1 php-fpm[4100]: z", true, "php-fpm", "z", 4100, 2025, true, true},
		{"1 - web1 nginx - - - x", false, "", "", 0, 0, false, false},
		{"<1x>1 2026-11-20T10:01:02Z h a - - - m", false, "", "", 0, 0, false, false},
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

func FuzzParseSyslog(f *testing.F) {
	for _, s := range []string{
		"Dec 31 23:59:59 web1 kernel: [1.5] Out of memory",
		"2026-11-20T10:01:02.123456+00:00 web1 php-fpm8.2[7]: [NOTICE] y",
		"<165>1 2026-11-20T10:01:02.5Z web1 nginx 983479 - - 2026/11/20 10:01:02 [error] x",
		`1 2026-11-20T10:01:02+01:00 web1 apache2 - ID47 [a b="c\]d"] m`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := ParseSyslog(b, Options{Ref: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if !ok {
			return
		}
		if len(h.Msg) > len(b) || len(h.Tag) > len(b) || h.PID < 0 {
			t.Fatalf("%q: %+v", b, h)
		}
	})
}
