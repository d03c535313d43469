package apache

import (
	"time"

	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

// Lines from elastic/beats' apache module tests that the built-in formats
// must read.
func TestBuiltinRealWorld(t *testing.T) {
	cases := []struct {
		f            *Format
		line         string
		client, host string
		status       int
		ua           bool
	}{
		{Combined(), `::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209`, "::1", "", 404, false},
		{Combined(), `192.168.33.1 - - [26/Dec/2016:16:22:13 +0000] "GET /hello HTTP/1.1" 404 499 "-" "Mozilla/5.0"`, "192.168.33.1", "", 404, true},
		{Combined(), `::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -`, "::1", "", 408, false},
		{VhostNoPort(), `vhost1.domaine.fr 123.123.123.123 - - [04/Jul/2019:09:20:46 +0200] "GET / HTTP/1.1" 200 32953 "-" "Mozilla/5.0 (X11; Linux x86_64)"`, "123.123.123.123", "vhost1.domaine.fr", 200, true},
		{VhostCombined(), `example.com:80 81.2.69.143 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0"`, "81.2.69.143", "example.com", 200, true},
		{SSLRequest(), `[10/Aug/2018:09:45:56 +0200] 172.30.0.119 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "GET / HTTP/1.1" 1375`, "172.30.0.119", "", 0, false},
		{SSLRequest(), `[16/Oct/2019:11:53:47 +0200] 81.2.69.143 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "GET /appl/x HTTP/1.1" -`, "81.2.69.143", "", 0, false},
	}
	for _, c := range cases {
		ev, err := NewAccess(c.f, parsers.Options{})([]byte(c.line))
		if err != nil {
			t.Errorf("%s: %q: %v", c.f.Name(), c.line, err)
			continue
		}
		if string(ev.Client) != c.client || string(ev.Host) != c.host || ev.Status != c.status || (ev.UserAgent != nil) != c.ua || ev.Time.IsZero() {
			t.Errorf("%s: %q: client %q host %q status %d ua %q time %v", c.f.Name(), c.line, ev.Client, ev.Host, ev.Status, ev.UserAgent, ev.Time)
		}
	}
	// A vhost column is not a client: the vhost formats refuse plain lines.
	for _, f := range []*Format{VhostNoPort(), VhostCombined()} {
		if _, err := NewAccess(f, parsers.Options{})([]byte(`77.179.66.156 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "curl"`)); err == nil {
			t.Errorf("%s read a plain combined line", f.Name())
		}
	}
}

func TestErrorRealWorld(t *testing.T) {
	o := parsers.Options{Ref: time.Date(2005, 12, 31, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		line, client, upstream, module, code, time string
		pid                                        int
	}{
		{`Feb 15 16:23:00 srv httpd[22034]: [authz_core:error] [pid 22034] [client 192.0.2.1:58585] AH01630: client denied by server configuration: /home/www/`, "192.0.2.1", "", "authz_core", "AH01630", "2005-02-15T16:23:00", 22034},
		{`Feb 15 16:23:40 srv httpd/backend1[22034]: [authz_core:error] [pid 22036] [client 192.0.2.2:59392] AH01630: client denied`, "192.0.2.2", "", "authz_core", "AH01630", "2005-02-15T16:23:40", 22036},
		{`Feb 15 16:54:53 tools apache2[18154]: [:error] [pid 18154:tid 140680873617152] [client 192.0.2.3:48154] AH01630: client denied by server configuration: /var/www`, "192.0.2.3", "", "", "AH01630", "2005-02-15T16:54:53", 18154},
		{`Feb 16 22:32:48 srv httpd[22034]: [error] [client 127.0.0.1] user wrongusername not found: /basic/file`, "127.0.0.1", "", "", "", "2005-02-16T22:32:48", 22034},
		{`2005-02-16T22:32:48.5+01:00 srv apache2[7]: [proxy_fcgi:error] [pid 7] [client 192.0.2.9:1] AH01079: failed to make connection to backend: 127.0.0.1`, "192.0.2.9", "127.0.0.1", "proxy_fcgi", "AH01079", "2005-02-16T21:32:48", 7},
		{`[Sat Jul 20 22:11:44.147674 2013] [authz_owner:error] [pid 17540:tid 140122922129152] [client [2606:2800:220:1:248:1893:25c8:1946]:51548] AH01637: Authorization failed`, "2606:2800:220:1:248:1893:25c8:1946", "", "authz_owner", "AH01637", "2013-07-20T22:11:44", 17540},
		{`[Wed Oct 20 19:20:59.121211 2021] [http2:debug] [pid 121591:tid 140413273032448] h2_stream.c(470): [remote 192.0.2.111:35924] AH03459: h2_stream(1-3): closing`, "192.0.2.111", "", "http2", "AH03459", "2021-10-20T19:20:59", 121591},
		{`[Fri Nov 20 10:01:10.100000 2026] [proxy:debug] [pid 1237:tid 140123461] proxy_util.c(3462): [remote 127.0.0.1:9000] AH02824: FCGI: connection established with 127.0.0.1:9000 (*:9000)`, "", "127.0.0.1:9000", "proxy", "AH02824", "2026-11-20T10:01:10", 1237},
	}
	parse := NewError(o)
	for _, c := range cases {
		ev, err := parse([]byte(c.line))
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if string(ev.Client) != c.client || string(ev.Upstream) != c.upstream || string(ev.Module) != c.module || string(ev.Code) != c.code ||
			ev.Time.Format("2006-01-02T15:04:05") != c.time || ev.PID != c.pid {
			t.Errorf("%q:\n client %q upstream %q module %q code %q time %v pid %d", c.line, ev.Client, ev.Upstream, ev.Module, ev.Code, ev.Time, ev.PID)
		}
	}
	for _, l := range []string{`Feb 15 16:23:00 srv sshd[1]: Accepted publickey for root`, `Feb 15 16:23:00 srv foo[1]: [x] y`} {
		if _, err := parse([]byte(l)); err == nil {
			t.Errorf("read another daemon's line %q", l)
		}
	}
}

func TestErrorRFC5424(t *testing.T) {
	ev, err := NewError(parsers.Options{})([]byte(`<163>1 2026-11-20T10:01:02.5Z web1 apache2 4242 - - [proxy_fcgi:error] [pid 4242:tid 7] [client 203.0.113.7:5555] AH01079: failed to make connection to backend: 127.0.0.1`))
	if err != nil || string(ev.Client) != "203.0.113.7" || ev.PID != 4242 || string(ev.Code) != "AH01079" || ev.Time.IsZero() {
		t.Errorf("%v: %+v", err, ev)
	}
}
