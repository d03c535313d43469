package nginx

import (
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

var (
	benchCombined = []byte(`203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET /index.php?p=1 HTTP/1.1" 502 157 "https://example.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" "198.51.100.7"`)
	benchExtras   = []byte(`127.0.0.1 - - [22/Nov/2026:04:49:08 +0000] "GET /dead/ HTTP/1.1" 502 157 "-" "Mozilla/5.0" rt=0.000 uct="-, -" uht="-, -" urt="0.001, 0.002" us=502, 502 ua=127.0.0.1:18091, 127.0.0.1:18092 host=example.com cf_ray=8e1f2a3b4c5d6e7f-AMS`)
	benchCustom   = []byte(`2026-11-22T04:49:08+00:00 198.51.100.23 127.0.0.1 example.com "GET /dead/ HTTP/1.1" 502 157 0.000 0.001, 0.002 502, 502 127.0.0.1:18091, 127.0.0.1:18092 8e1f2a3b4c5d6e7f-AMS 19 18628 "Mozilla/5.0"`)
	benchJSON     = []byte(`{"time_local":"22/Nov/2026:04:49:08 +0000","remote_addr":"127.0.0.1","http_cf_connecting_ip":"198.51.100.23","request":"GET /dead/ HTTP/1.1","status":502,"body_bytes_sent":157,"request_time":0.004,"upstream_status":"502, 502","upstream_addr":"127.0.0.1:18091, 127.0.0.1:18092","upstream_response_time":"0.001, 0.002","host":"example.com","http_cf_ray":"8e1f2a3b4c5d6e7f-AMS","http_referer":"","http_user_agent":"Mozilla/5.0"}`)
	benchError    = []byte(`2026/11/20 10:01:02 [error] 1234#1234: *56 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: example.com, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"`)
	benchVhostXFF = []byte(`example.com 10.0.0.2, 10.0.0.1, 81.2.69.143 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"`)
	benchJournal  = []byte(`Dec 09 21:35:20 web nginx[983479]: 2026/11/20 10:01:02 [error] 1234#1234: *56 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: example.com, request: "GET /index.php HTTP/1.1"`)
	benchNotice   = []byte(`2026/11/22 04:49:31 [notice] 18626#18626: signal 15 (SIGTERM) received from 19306, exiting`)
)

type benchCase struct {
	name  string
	parse parsers.Func
	line  []byte
}

func benchCases(tb testing.TB) []benchCase {
	custom, err := CompileFormat("custom", customISOSpec, EscapeDefault)
	if err != nil {
		tb.Fatal(err)
	}
	o := parsers.Options{}
	return []benchCase{
		{"combined", NewAccess(Combined(), o), benchCombined},
		{"combined_extras", NewAccess(Combined(), o), benchExtras},
		{"custom", NewAccess(custom, o), benchCustom},
		{"json", NewJSONAccess(o), benchJSON},
		{"error", NewError(o), benchError},
		{"error_notice", NewError(o), benchNotice},
		{"nomatch", NewAccess(Combined(), o), benchError},
		{"vhost_xff_list", NewAccess(VhostCombined(), o), benchVhostXFF},
		{"combined_xff_list", NewAccess(Combined(), o), benchVhostXFF[len("example.com "):]},
		{"error_journal", NewError(o), benchJournal},
		{"error_continuation", NewError(o), []byte(`PHP message: PHP Warning:  Declaration of B::wrap() should be compatible`)},
	}
}

func BenchmarkParse(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.line)))
			for b.Loop() {
				_, _ = c.parse(c.line)
			}
		})
	}
}

func BenchmarkLooksLikeJSONAccess(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchJSON)))
	for b.Loop() {
		_ = LooksLikeJSONAccess(benchJSON)
	}
}

// Parsing a typical line, and rejecting a foreign one, allocates nothing.
func TestZeroAllocs(t *testing.T) {
	for _, c := range benchCases(t) {
		if c.name != "nomatch" && c.name != "error_continuation" {
			if _, err := c.parse(c.line); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = c.parse(c.line) }); n != 0 {
			t.Errorf("%s: %v allocations per line, want 0", c.name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = LooksLikeJSONAccess(benchJSON) }); n != 0 {
		t.Errorf("LooksLikeJSONAccess: %v allocations, want 0", n)
	}
}
