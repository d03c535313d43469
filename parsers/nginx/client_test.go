package nginx

import (
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

// Lines from elastic/beats' nginx module tests (test.log, test-with-host.log).
func TestClientField(t *testing.T) {
	comb, vhost := NewAccess(Combined(), parsers.Options{}), NewAccess(VhostCombined(), parsers.Options{})
	cases := []struct {
		parse                           parsers.Func
		line, client, remote, host, fwd string
	}{
		{comb, `10.0.0.2, 10.0.0.1, 81.2.69.143 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0"`, "81.2.69.143", "81.2.69.143", "", "10.0.0.2, 10.0.0.1, 81.2.69.143"},
		{comb, `10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0"`, "10.0.0.2", "127.0.0.1", "", "10.0.0.2, 10.0.0.1, 127.0.0.1"},
		{comb, `"10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront"`, "199.96.1.1", "10.2.1.185", "", `10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185`},
		{comb, `lessons.example.com 192.168.0.1 - - [09/Jun/2020:12:10:39 -0700] "GET /a.mp4 HTTP/1.1" 206 7648063 "-" "Mozilla/5.0"`, "192.168.0.1", "192.168.0.1", "lessons.example.com", "192.168.0.1"},
		{comb, `12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "GET /x HTTP/1.1" 404 47`, "12.34.56.78", "12.34.56.78", "", ""},
		{vhost, `example.com 10.0.0.2, 10.0.0.1, 81.2.69.143 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0"`, "81.2.69.143", "81.2.69.143", "example.com", "10.0.0.2, 10.0.0.1, 81.2.69.143"},
		{vhost, `1.128.3.4 2a02:cf40:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] "GET /test.html HTTP/1.1" 404 8571 "-" "Mozilla/5.0"`, "2a02:cf40:10ff:f00f:0000:0000:0:8000", "10.2.2.121", "1.128.3.4", "2a02:cf40:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121"},
		{vhost, `example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-"`, "unix:", "unix:", "example.com:80", ""},
	}
	for _, c := range cases {
		ev, err := c.parse([]byte(c.line))
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if string(ev.Client) != c.client || string(ev.RemoteAddr) != c.remote || string(ev.Host) != c.host || string(ev.Forwarded) != c.fwd || ev.Time.IsZero() {
			t.Errorf("%q:\n client %q remote %q host %q forwarded %q", c.line, ev.Client, ev.RemoteAddr, ev.Host, ev.Forwarded)
		}
	}
	// A plain combined line is not vhost_combined: its client would be "-".
	if _, err := vhost([]byte(`77.179.66.156 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "curl"`)); err == nil {
		t.Error("vhost_combined read a plain combined line")
	}
}

func TestErrorSyslogAndContinuation(t *testing.T) {
	parse := NewError(parsers.Options{})
	for _, l := range []string{
		`host nginx[2833]: 2015/01/21 10:56:10 [error] 2833#0: *16336 open() "/x" failed (2: No such file or directory), client: 5.7.9.2, server: localhost, request: "GET /cgi-bin/php4 HTTP/1.1", host: "1.2.3.4"`,
		`Jan 21 10:56:10 web nginx: 2015/01/21 10:56:10 [error] 2833#0: *16336 open() "/x" failed (2: No such file or directory), client: 5.7.9.2, server: localhost`,
		`2015-01-21T10:56:10+00:00 web nginx[2833]: 2015/01/21 10:56:10 [error] 2833#0: *16336 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 5.7.9.2, server: localhost`,
	} {
		ev, err := parse([]byte(l))
		if err != nil || string(ev.Client) != "5.7.9.2" || ev.Time.Format("2006-01-02 15:04:05") != "2015-01-21 10:56:10" {
			t.Errorf("%q: %v client %q time %v", l, err, ev.Client, ev.Time)
		}
	}
	_, err := parse([]byte(`PHP message: PHP Warning:  Declaration of FEE_Field_Tags::wrap() should be compatible`))
	if err != parsers.ErrContinuation && !isContinuation(err) {
		t.Errorf("continuation line: %v", err)
	}
}

func TestErrorRFC5424(t *testing.T) {
	ev, err := NewError(parsers.Options{})([]byte(`<163>1 2026-11-20T10:01:02.5Z web1 nginx 983479 - - 2026/11/20 10:01:02 [error] 12#12: *5 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: _`))
	if err != nil || string(ev.Client) != "203.0.113.7" || ev.PID != 12 || ev.Signal != parsers.SigUpstreamTimedOut {
		t.Errorf("%v: %+v", err, ev)
	}
}
