package apache

import (
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

const (
	benchCombined = `172.70.1.2 - - [20/Nov/2026:10:01:02 +0100] "POST /wp-admin/admin-ajax.php HTTP/1.1" 502 545 "https://example.com/wp-admin/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"`
	benchError    = `[Fri Nov 20 10:01:02.123456 2026] [proxy_fcgi:error] [pid 1234:tid 140123456] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01075: Error dispatching request to : (polling), referer: http://example.com/`
	benchCustom   = `127.0.0.1 127.0.0.1 127.0.0.1 198.51.100.23 198.51.100.23, 172.70.1.2 [2026-11-22T04:45:06] [1795322706] [1795322706876] [1795322706876004] GET /down HTTP/1.1 503 503 339 339 567 0 0 567 "8f1e2d3c4b5a6978-FRA" h2.test 127.0.0.1 80 15736 140238167410368 - 258 529 787 0 ZFYzJD5/nL4 proxy-server proxy:fcgi://127.0.0.1:19000/ % 127.0.0.1:18180`
)

const (
	benchCommon      = `172.70.1.2 - - [20/Nov/2026:10:01:02 +0100] "POST /wp-admin/admin-ajax.php HTTP/1.1" 502 545`
	benchVhost       = `www.example.com 172.70.1.2 - - [20/Nov/2026:10:01:02 +0100] "POST /wp-admin/admin-ajax.php HTTP/1.1" 502 545 "https://example.com/wp-admin/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"`
	benchSSL         = `[10/Aug/2018:09:45:56 +0200] 172.30.0.119 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "GET /nagiosxi/ajaxhelper.php?cmd=getxicoreajax HTTP/1.1" 1375`
	benchErrorSyslog = `Nov 20 10:01:02 web apache2[1234]: [proxy_fcgi:error] [pid 1234:tid 140123456] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01075: Error dispatching request to : (polling), referer: http://example.com/`
	benchErrorV6     = `[Fri Nov 20 10:01:02.123456 2026] [proxy_fcgi:error] [pid 1234:tid 140123456] (70007)The timeout specified has expired: [client [2001:db8::7]:51234] AH01075: Error dispatching request to : (polling), referer: http://example.com/`
)

func TestZeroAllocs(t *testing.T) {
	cases := []struct {
		name  string
		parse parsers.Func
		line  string
	}{
		{"combined", NewAccess(Combined(), parsers.Options{}), benchCombined},
		{"combined+TD", NewAccess(Combined(), parsers.Options{}), benchCombined + ` 1/1001685`},
		{"everything", NewAccess(mustCompile(t, "e", specEverything), parsers.Options{}), benchCustom},
		{"error", NewError(parsers.Options{}), benchError},
		{"common_by_combined", NewAccess(Combined(), parsers.Options{}), benchCommon},
		{"vhost_noport", NewAccess(VhostNoPort(), parsers.Options{}), benchVhost},
		{"ssl_request", NewAccess(SSLRequest(), parsers.Options{}), benchSSL},
		{"error_syslog", NewError(parsers.Options{}), benchErrorSyslog},
		{"error_v6", NewError(parsers.Options{}), benchErrorV6},
	}
	for _, c := range cases {
		line := []byte(c.line)
		if _, err := c.parse(line); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := testing.AllocsPerRun(200, func() { _, _ = c.parse(line) }); n != 0 {
			t.Errorf("%s: %v allocs per line, want 0", c.name, n)
		}
	}
}

func bench(b *testing.B, parse parsers.Func, line string) {
	l := []byte(line)
	b.ReportAllocs()
	b.SetBytes(int64(len(l)))
	for b.Loop() {
		if _, err := parse(l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAccessCombined(b *testing.B) {
	bench(b, NewAccess(Combined(), parsers.Options{}), benchCombined)
}

func BenchmarkAccessCustom(b *testing.B) {
	bench(b, NewAccess(mustCompile(b, "e", specEverything), parsers.Options{}), benchCustom)
}

func BenchmarkError(b *testing.B) { bench(b, NewError(parsers.Options{}), benchError) }

func BenchmarkAccessVhostNoPort(b *testing.B) {
	bench(b, NewAccess(VhostNoPort(), parsers.Options{}), benchVhost)
}

func BenchmarkAccessSSLRequest(b *testing.B) {
	bench(b, NewAccess(SSLRequest(), parsers.Options{}), benchSSL)
}

func BenchmarkErrorSyslog(b *testing.B) { bench(b, NewError(parsers.Options{}), benchErrorSyslog) }
