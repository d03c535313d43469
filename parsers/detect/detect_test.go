package detect_test

import (
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/detect"
	"github.com/origin-agent/origin-agent/parsers/kernel"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/phpfpm"
)

func candidates() []detect.Candidate {
	o := parsers.Options{}
	return []detect.Candidate{
		{Type: parsers.TypeNginxAccess, Name: "combined", Parse: nginx.NewAccess(nginx.Combined(), o)},
		{Type: parsers.TypeNginxAccess, Name: "json", Parse: nginx.NewJSONAccess(o)},
		{Type: parsers.TypeApacheAccess, Name: "combined", Parse: apache.NewAccess(apache.Combined(), o)},
		{Type: parsers.TypeNginxError, Name: "nginx", Parse: nginx.NewError(o)},
		{Type: parsers.TypeApacheError, Name: "apache", Parse: apache.NewError(o)},
		{Type: parsers.TypePHPFPM, Name: "php-fpm", Parse: phpfpm.New(o)},
		{Type: parsers.TypeKernel, Name: "kernel", Parse: kernel.New(o)},
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name  string
		lines string
		want  parsers.Type // "" = not a log
	}{
		{"access.log", `203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`, parsers.TypeNginxAccess},
		{"x.log", `203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`, parsers.TypeNginxAccess},
		{"apache2/access.log", `203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`, parsers.TypeApacheAccess},
		{"app.log", `{"time_iso8601":"2026-11-20T10:01:02+00:00","status":502,"request":"GET / HTTP/1.1"}`, parsers.TypeNginxAccess},
		{"e.log", `2026/11/20 10:01:02 [error] 12#12: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 1.2.3.4, server: _, request: "GET / HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "x"`, parsers.TypeNginxError},
		{"e.log", `[Fri Nov 20 10:01:02.123456 2026] [proxy_fcgi:error] [pid 12:tid 34] [client 1.2.3.4:5] AH01079: failed to make connection to backend: 127.0.0.1`, parsers.TypeApacheError},
		{"f.log", `[20-Nov-2026 10:01:02] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it`, parsers.TypePHPFPM},
		{"k.log", `2026-11-20T10:01:02,123456+00:00 Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:1kB`, parsers.TypeKernel},
		{"nginx.conf", "server {\n    listen 80;\n    root /var/www;\n}", ""},
		{"README", "# Title\n\nSome text about logs.\n", ""},
		{"garbage", "\x00\x01\x02\xff\xfe binary", ""},
	}
	for _, tc := range cases {
		var sample [][]byte
		for _, l := range strings.Split(tc.lines, "\n") {
			sample = append(sample, []byte(l))
		}
		cands := candidates()
		r := detect.Detect(tc.name, sample, cands)
		var got parsers.Type
		if r.Index >= 0 {
			got = cands[r.Index].Type
		}
		if got != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.name, tc.lines[:min(40, len(tc.lines))], got, tc.want)
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("access.log", `203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`)
	f.Add("kern.log", "Nov 20 10:01:02 web kernel: Out of memory: Killed process 1 (x)")
	f.Fuzz(func(t *testing.T, name, text string) {
		var sample [][]byte
		for _, l := range strings.Split(text, "\n") {
			sample = append(sample, []byte(l))
		}
		cands := candidates()
		r := detect.Detect(name, sample, cands)
		if r.Index >= len(cands) || r.Matched > r.Sampled {
			t.Fatalf("bad result %+v", r)
		}
	})
}

// FuzzBuild runs a line through every built-in format's full parser (with
// its per-line fallbacks and syslog prefixes) and the detection over it.
func FuzzBuild(f *testing.F) {
	f.Add(`Dec  9 21:35:20 web nginx: 203.0.113.7 - - [09/Dec/2026:21:35:20 +0000] "GET /x HTTP/1.1" 502 157 "-" "c"`)
	f.Add(`<163>1 2026-11-20T10:01:02.5Z web1 nginx 1 - - 2026/11/20 10:01:02 [error] 12#12: *5 x, client: 1.2.3.4`)
	f.Add(`example.com "10.0.0.1, 81.2.69.143" 10.0.0.9 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 5`)
	f.Add(`PHP message: continued`)
	formats := detect.Builtin("")
	parsersOf := make([]parsers.Func, len(formats))
	for i := range formats {
		parsersOf[i] = detect.Build(formats, i, parsers.Options{}, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, line string) {
		b := []byte(line)
		for i, p := range parsersOf {
			ev, err := p(b)
			if err != nil {
				continue
			}
			if typ := detect.LineType(formats[i].Type, &ev); typ == "" || ev.Kind == parsers.KindNone {
				t.Fatalf("%s: type %q kind %d", formats[i].Name, typ, ev.Kind)
			}
		}
		_, r, _ := detect.Choose("x.log", [][]byte{b, b}, formats)
		if r.Matched > r.Sampled || r.NearMatched > r.Sampled {
			t.Fatalf("bad result %+v", r)
		}
	})
}

// Of formats that parse the same lines the richer wins, whatever their order.
func TestDetectPrefersRicher(t *testing.T) {
	o := parsers.Options{}
	cands := []detect.Candidate{
		{Type: parsers.TypeApacheAccess, Name: "common", Parse: apache.NewAccess(apache.Common(), o)},
		{Type: parsers.TypeApacheAccess, Name: "combined", Parse: apache.NewAccess(apache.Combined(), o)},
		{Type: parsers.TypeNginxAccess, Name: "combined", Parse: nginx.NewAccess(nginx.Combined(), o)},
		{Type: parsers.TypeNginxAccess, Name: "vhost_combined", Parse: nginx.NewAccess(nginx.VhostCombined(), o)},
	}
	sample := [][]byte{
		[]byte(`192.168.33.1 - - [26/Dec/2016:16:22:13 +0000] "GET /hello HTTP/1.1" 404 499 "https://example.com/" "Mozilla/5.0"`),
		[]byte(`::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209`),
	}
	if r := detect.Detect("apache2/access.log", sample, cands); r.Index != 1 {
		t.Errorf("apache combined lines: chose %+v", r)
	}
	vhost := [][]byte{
		[]byte(`example.com 172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /a HTTP/1.1" 404 612 "-" "Mozilla/5.0"`),
		[]byte(`1.128.3.4 2a02:cf40::8000, 10.225.192.17 10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] "GET /b HTTP/1.1" 404 8571 "-" "Mozilla/5.0"`),
	}
	if r := detect.Detect("access.log", vhost, cands); r.Index != 3 {
		t.Errorf("vhost lines: chose %+v", r)
	}
}
