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
