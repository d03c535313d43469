package apache

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin without the host's tzdata package

	"github.com/origin-agent/origin-agent/parsers"
)

func TestCompileLogFormatErrors(t *testing.T) {
	for _, spec := range []string{`%h %Z`, `%{Referer`, `%h %`, `plain text`, `%{fortnight}T`} {
		if _, err := CompileLogFormat("x", spec); err == nil {
			t.Errorf("CompileLogFormat(%q): want error", spec)
		}
	}
}

func TestAccessTable(t *testing.T) {
	utc := parsers.Options{Location: time.UTC}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		status      int
		client      string
		remote      string
		host        string
		uri         string
		method      string
		bytes       int64
		reqTime     int64
		time        string
		noZone      bool
		cfRay, ua   string
		pid         int
		noMatch     bool
		referer     string
		requestLine string
	}
	tests := []struct {
		name, spec string
		builtin    *Format
		opts       parsers.Options
		line       string
		want       want
	}{
		{
			name: "combined 502 from cloudflare", builtin: Combined(), opts: utc,
			line: `172.70.1.2 - - [20/Nov/2026:10:01:02 +0100] "GET /a?b=1 HTTP/1.1" 502 545 "-" "curl/8.0"`,
			want: want{status: 502, client: "172.70.1.2", remote: "172.70.1.2", uri: "/a?b=1", method: "GET", bytes: 545, reqTime: -1, time: "2026-11-20T09:01:02Z", ua: "curl/8.0", requestLine: "GET /a?b=1 HTTP/1.1"},
		},
		{
			name: "combined with escaped quotes and trailing T/D", builtin: Combined(), opts: utc,
			line: `1.2.3.4 - - [20/Nov/2026:10:01:02 +0000] "GET /x\"y HTTP/1.1" 504 10 "http://r/\"q\"" "UA \\ \"x\"" 2/2003001`,
			want: want{status: 504, client: "1.2.3.4", remote: "1.2.3.4", uri: `/x\"y`, method: "GET", bytes: 10, reqTime: 2003001, time: "2026-11-20T10:01:02Z", ua: `UA \\ \"x\"`, referer: `http://r/\"q\"`, requestLine: `GET /x\"y HTTP/1.1`},
		},
		{
			name: "combined trailing lone number is not guessed", builtin: Combined(), opts: utc,
			line: `1.2.3.4 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 10 "-" "-" 1234`,
			want: want{status: 200, client: "1.2.3.4", remote: "1.2.3.4", uri: "/", method: "GET", bytes: 10, reqTime: -1, time: "2026-11-20T10:01:02Z", requestLine: "GET / HTTP/1.1"},
		},
		{
			name: "combined rejects glued trailing text", builtin: Combined(), opts: utc,
			line: `1.2.3.4 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 10 "-" "-"x`,
			want: want{noMatch: true},
		},
		{
			name: "common with %b dash", builtin: Common(), opts: utc,
			line: `1.2.3.4 - bob [20/Nov/2026:10:01:02 +0000] "HEAD / HTTP/1.0" 304 -`,
			want: want{status: 304, client: "1.2.3.4", remote: "1.2.3.4", uri: "/", method: "HEAD", bytes: 0, reqTime: -1, time: "2026-11-20T10:01:02Z", requestLine: "HEAD / HTTP/1.0"},
		},
		{
			name: "bad month is no match", builtin: Common(), opts: utc,
			line: `1.2.3.4 - - [20/Foo/2026:10:01:02 +0000] "GET / HTTP/1.0" 200 1`,
			want: want{noMatch: true},
		},
		{
			name: "vhost_combined", builtin: VhostCombined(), opts: utc,
			line: `www.example.com:443 1.2.3.4 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/2.0" 503 99 "-" "-"`,
			want: want{status: 503, client: "1.2.3.4", remote: "1.2.3.4", host: "www.example.com", uri: "/", method: "GET", bytes: 99, reqTime: -1, time: "2026-11-20T10:01:02Z", requestLine: "GET / HTTP/2.0"},
		},
		{
			name: "cloudflare headers override client", spec: `%a %{c}a %{CF-Connecting-IP}i "%{X-Forwarded-For}i" %t "%r" %>s %b %D "%{cf-ray}i" %{Host}i %P`, opts: utc,
			line: `10.0.0.1 162.158.1.1 203.0.113.5 "198.51.100.7, 162.158.1.1" [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 502 - 1500 "8f1e2d3c4b5a6978-FRA" example.com 4321`,
			want: want{status: 502, client: "203.0.113.5", remote: "162.158.1.1", host: "example.com", uri: "/", method: "GET", bytes: 0, reqTime: 1500, time: "2026-11-20T10:01:02Z", cfRay: "8f1e2d3c4b5a6978-FRA", pid: 4321, requestLine: "GET / HTTP/1.1"},
		},
		{
			name: "xff first element when no cf header", spec: `%h %{X-Forwarded-For}i %>s`, opts: utc,
			line: `10.0.0.1 198.51.100.7, 10.0.0.9 200`,
			want: want{status: 200, client: "198.51.100.7", remote: "10.0.0.1", bytes: -1, reqTime: -1},
		},
		{
			// 2e17 s in µs wraps int64 negative; found by FuzzAccess.
			name: "absurd %T is not a duration", spec: `%h %>s %T`, opts: utc,
			line: `10.0.0.1 200 200000000000000000`,
			want: want{status: 200, client: "10.0.0.1", remote: "10.0.0.1", bytes: -1, reqTime: -1},
		},
		{
			name: "dash header leaves client", spec: `%h %{CF-Connecting-IP}i %>s`, opts: utc,
			line: `10.0.0.1 - 200`,
			want: want{status: 200, client: "10.0.0.1", remote: "10.0.0.1", bytes: -1, reqTime: -1},
		},
		{
			name: "strftime without zone uses location", spec: `[%{%Y-%m-%d %H:%M:%S}t] %h %s %{ms}T`, opts: parsers.Options{Location: berlin},
			line: `[2026-07-01 12:00:00] 1.2.3.4 503 250`,
			want: want{status: 503, client: "1.2.3.4", remote: "1.2.3.4", bytes: -1, reqTime: 250000, time: "2026-07-01T10:00:00Z", noZone: true},
		},
		{
			name: "epoch msec and %T", spec: `%{msec}t %h %>s %<s %T`, opts: utc,
			line: `1795322706876 1.2.3.4 502 200 3`,
			want: want{status: 502, client: "1.2.3.4", remote: "1.2.3.4", bytes: -1, reqTime: 3000000, time: "2026-11-22T04:45:06.876Z"},
		},
		{
			name: "method path query protocol pieces", spec: `%m %U%q %H %>s %{User-Agent}i`, opts: utc,
			line: `POST /index.php?x=1 HTTP/1.1 201 Mozilla/5.0 (X11) rv:1`,
			want: want{status: 201, method: "POST", uri: "/index.php?x=1", bytes: -1, reqTime: -1, ua: "Mozilla/5.0 (X11) rv:1"},
		},
		{
			name: "path without query", spec: `%m %U%q %>s`, opts: utc,
			line: `GET /a/b 200`,
			want: want{status: 200, method: "GET", uri: "/a/b", bytes: -1, reqTime: -1},
		},
		{
			name: "status out of range", spec: `%h %>s`, opts: utc,
			line: `1.2.3.4 1000`,
			want: want{noMatch: true},
		},
		{
			name: "literal percent and escapes in format", spec: `%h\t%% %>s`, opts: utc,
			line: "1.2.3.4\t% 200",
			want: want{status: 200, client: "1.2.3.4", remote: "1.2.3.4", bytes: -1, reqTime: -1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.builtin
			if f == nil {
				f = mustCompile(t, "t", tc.spec)
			}
			ev, err := NewAccess(f, tc.opts)([]byte(tc.line))
			if tc.want.noMatch {
				if !errors.Is(err, parsers.ErrNoMatch) {
					t.Fatalf("err = %v, want ErrNoMatch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			check := func(name, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if ev.Kind != parsers.KindAccess || ev.Status != w.status || ev.Bytes != w.bytes || ev.RequestTime != w.reqTime || ev.PID != w.pid || ev.NoZone != w.noZone {
				t.Errorf("kind %d status %d bytes %d reqTime %d pid %d noZone %v; want status %d bytes %d reqTime %d pid %d noZone %v",
					ev.Kind, ev.Status, ev.Bytes, ev.RequestTime, ev.PID, ev.NoZone, w.status, w.bytes, w.reqTime, w.pid, w.noZone)
			}
			check("Client", string(ev.Client), w.client)
			check("RemoteAddr", string(ev.RemoteAddr), w.remote)
			check("Host", string(ev.Host), w.host)
			check("URI", string(ev.URI), w.uri)
			check("Method", string(ev.Method), w.method)
			check("CFRay", string(ev.CFRay), w.cfRay)
			check("UserAgent", string(ev.UserAgent), w.ua)
			check("Referer", string(ev.Referer), w.referer)
			check("Request", string(ev.Request), w.requestLine)
			gotTime := ""
			if !ev.Time.IsZero() {
				gotTime = ev.Time.UTC().Format(time.RFC3339Nano)
			}
			check("Time", gotTime, w.time)
		})
	}
}
