package nginx

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

func TestCompileFormatErrors(t *testing.T) {
	tests := []struct {
		spec string
		want string // substring of the error
	}{
		{`$remote_addr [$time_local] $`, "position 27: invalid variable name"},
		{`$remote_addr ${status`, "position 13: missing '}' after ${status"},
		{`${} $status`, "position 0: invalid variable name"},
		{`$remote_addr $-x`, "position 13: invalid variable name"},
		{`no variables at all`, "no variables"},
	}
	for _, tt := range tests {
		_, err := CompileFormat("bad", tt.spec, EscapeDefault)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "log_format bad") {
			t.Errorf("CompileFormat(%q) error = %v, want it to contain %q", tt.spec, err, tt.want)
		}
	}
	if _, err := CompileFormat("x", "$status", Escape(7)); err == nil {
		t.Error("CompileFormat with escape 7: no error")
	}
}

func TestFields(t *testing.T) {
	f, err := CompileFormat("timing", `$remote_addr [${time_local}] "$request" $status rt=$request_time x=$my_custom_var$pid`, EscapeDefault)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"remote_addr", "time_local", "request", "status", "request_time", "my_custom_var", "pid"}
	if got := Fields(f); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	if f.Name() != "timing" || Combined().Name() != "combined" || Main().Name() != "main" {
		t.Errorf("names: %q %q %q", f.Name(), Combined().Name(), Main().Name())
	}
	if got := Fields(Combined()); len(got) != 8 || got[0] != "remote_addr" || got[7] != "http_user_agent" {
		t.Errorf("Fields(Combined()) = %q", got)
	}
}

func TestAccess(t *testing.T) {
	tests := []struct {
		name, spec string
		esc        Escape
		line, want string
	}{
		{
			"combined", CombinedSpec, EscapeDefault,
			`203.0.113.7 - - [20/Nov/2026:10:01:02 +0100] "GET /index.php?p=1 HTTP/1.1" 502 157 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"`,
			`{"status":502,"time":"2026-11-20T09:01:02Z","client":"203.0.113.7","remote_addr":"203.0.113.7","method":"GET","uri":"/index.php?p=1",
			  "protocol":"HTTP/1.1","request":"GET /index.php?p=1 HTTP/1.1","bytes":157,"referer":"https://example.com/",
			  "user_agent":"Mozilla/5.0 (X11; Linux x86_64)","request_time_us":-1,"upstream_time_us":-1,"upstream_status":null,"kind":1}`,
		},
		{
			"combined escaped quotes stay raw", CombinedSpec, EscapeDefault,
			`127.0.0.1 - - [22/Nov/2026:04:49:10 +0000] "GET /missing.html?q=%22x HTTP/1.1" 404 153 "https://example.com/a\x22b" "Weird \x22quoted\x22 agent\x5C"`,
			`{"status":404,"referer":"https://example.com/a\\x22b","user_agent":"Weird \\x22quoted\\x22 agent\\x5C"}`,
		},
		{
			"combined dash values are absent", CombinedSpec, EscapeDefault,
			`162.158.1.2 - - [20/Nov/2026:10:01:04 +0000] "-" 400 0 "-" "-"`,
			`{"status":400,"request":"-","method":null,"referer":null,"user_agent":null,"bytes":null}`,
		},
		{
			"main: x_forwarded_for first element is the client", MainSpec, EscapeDefault,
			`162.158.1.1 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0" "198.51.100.7, 162.158.1.1"`,
			`{"client":"198.51.100.7","remote_addr":"162.158.1.1"}`,
		},
		{
			"main: x_forwarded_for dash keeps remote_addr", MainSpec, EscapeDefault,
			`162.158.1.1 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0" "-"`,
			`{"client":"162.158.1.1"}`,
		},
		{
			"cf_connecting_ip beats x_forwarded_for", `$remote_addr "$http_x_forwarded_for" $http_cf_connecting_ip [$time_local] $status`, EscapeDefault,
			`172.70.1.2 "203.0.113.1, 172.70.1.2" 198.51.100.23 [20/Nov/2026:10:01:02 +0000] 503`,
			`{"client":"198.51.100.23","remote_addr":"172.70.1.2","status":503}`,
		},
		{
			"no brackets: fixed shapes do not need the literal", `$time_local $status $request_time $remote_addr`, EscapeDefault,
			`20/Nov/2026:10:01:02 +0000 504 60.001 10.0.0.1`,
			`{"status":504,"time":"2026-11-20T10:01:02Z","request_time_us":60001000,"client":"10.0.0.1"}`,
		},
		{
			"upstream lists unquoted and space separated", customISOSpec, EscapeDefault,
			`2026-11-22T04:49:08+00:00 198.51.100.23 127.0.0.1 example.com "GET /dead/ HTTP/1.1" 502 157 0.000 0.001, 0.002 502, 502 127.0.0.1:18091, 127.0.0.1:18092 8e1f2a3b4c5d6e7f-AMS 19 18628 "Mozilla/5.0"`,
			`{"status":502,"upstream_status":"502, 502","upstream_time_us":1000,"upstream":"127.0.0.1:18091, 127.0.0.1:18092",
			  "cf_ray":"8e1f2a3b4c5d6e7f-AMS","conn":19,"pid":18628,"host":"example.com","client":"198.51.100.23","time":"2026-11-22T04:49:08Z"}`,
		},
		{
			"upstream list with colon separator (internal redirect)", `[$time_local] $status us=$upstream_status urt=$upstream_response_time ua=$upstream_addr`, EscapeDefault,
			`[20/Nov/2026:10:01:02 +0000] 504 us=504 : 502 urt=60.000 : 0.001 ua=unix:/run/php/php8.2-fpm.sock : 127.0.0.1:8080`,
			`{"status":504,"upstream_status":"504 : 502","upstream_time_us":60000000,"upstream":"unix:/run/php/php8.2-fpm.sock : 127.0.0.1:8080"}`,
		},
		{
			"upstream timing format from nginx.com", `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"`, EscapeDefault,
			`127.0.0.1 - - [22/Nov/2026:04:49:08 +0000] "GET /dead/ HTTP/1.1" 502 157 "-" "Mozilla/5.0" rt=0.000 uct="-, -" uht="-, -" urt="0.000, 0.000"`,
			`{"status":502,"upstream_time_us":null,"request_time_us":null}`, // 0 µs renders as absent, unlike -1
		},
		{
			"msec time and request parts", `$msec $request_method $request_uri $server_protocol $status $bytes_sent $host`, EscapeDefault,
			`1795322944.824 POST /api/v1/items?x=1 HTTP/2.0 201 1234 api.example.com`,
			`{"time":"2026-11-22T04:49:04.824Z","method":"POST","uri":"/api/v1/items?x=1","protocol":"HTTP/2.0","status":201,"bytes":1234,"host":"api.example.com"}`,
		},
		{
			"$uri when there is no request_uri", `$status $uri $http_host $server_name`, EscapeDefault,
			`200 /index.php www.example.com example.com`,
			`{"uri":"/index.php","host":"www.example.com"}`,
		},
		{
			"escape=json format compiled", `{"t":"$time_iso8601","s":$status,"ua":"$http_user_agent","r":"$request","us":"$upstream_status"}`, EscapeJSON,
			`{"t":"2026-11-22T04:49:10+00:00","s":404,"ua":"Weird \"quoted\" agent\\","r":"GET / HTTP/1.1","us":""}`,
			`{"status":404,"user_agent":"Weird \\\"quoted\\\" agent\\\\","upstream_status":"","request":"GET / HTTP/1.1"}`,
		},
		{
			"unknown variables are skipped", `$remote_addr $ssl_protocol/$ssl_cipher "$request" $status $request_length`, EscapeDefault,
			`203.0.113.9 TLSv1.3/TLS_AES_256_GCM_SHA384 "GET / HTTP/1.1" 200 512`,
			`{"client":"203.0.113.9","status":200}`,
		},
		{
			"literal mismatch", CombinedSpec, EscapeDefault,
			`203.0.113.7 - - 20/Nov/2026:10:01:02 +0000 "GET / HTTP/1.1" 200 1 "-" "-"`,
			`{"nomatch":true}`,
		},
		{
			"bad status", CombinedSpec, EscapeDefault,
			`203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 20 1 "-" "-"`,
			`{"nomatch":true}`,
		},
		{
			"bad month", CombinedSpec, EscapeDefault,
			`203.0.113.7 - - [20/Nox/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`,
			`{"nomatch":true}`,
		},
		{
			"format without status", `$remote_addr $request_time`, EscapeDefault,
			`203.0.113.7 0.001`,
			`{"nomatch":true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := CompileFormat("t", tt.spec, tt.esc)
			if err != nil {
				t.Fatal(err)
			}
			checkSubset(t, NewAccess(f, parsers.Options{}), tt.line, tt.want)
		})
	}
}

// Formats that begin with combined are read by Combined(), with extras.
func TestCombinedExtras(t *testing.T) {
	p := NewAccess(Combined(), parsers.Options{})
	tests := []struct{ line, want string }{
		{
			`127.0.0.1 - - [22/Nov/2026:04:49:08 +0000] "GET /dead/ HTTP/1.1" 502 157 "-" "Mozilla/5.0" rt=0.000 uct="-, -" uht="-, -" urt="0.001, 0.002" us=502, 502 ua=127.0.0.1:18091, 127.0.0.1:18092 host=example.com cf_ray=8e1f2a3b4c5d6e7f-AMS`,
			`{"status":502,"upstream_status":"502, 502","upstream_time_us":1000,"request_time_us":null,"upstream":"127.0.0.1:18091, 127.0.0.1:18092","host":"example.com","cf_ray":"8e1f2a3b4c5d6e7f-AMS"}`,
		},
		{
			`203.0.113.53 - - [20/Nov/2026:10:01:09 +0000] "GET /index.php HTTP/1.1" 502 157 "-" "curl/8.5.0" "198.51.100.7, 162.158.1.1" request_time=0.012 upstream_response_time=0.011 upstream_status=502 upstream_addr=unix:/run/php/php8.2-fpm.sock cfray=8e1f2a3b4c5d6e7f-FRA`,
			`{"client":"198.51.100.7","request_time_us":12000,"upstream_time_us":11000,"upstream_status":"502","upstream":"unix:/run/php/php8.2-fpm.sock","cf_ray":"8e1f2a3b4c5d6e7f-FRA"}`,
		},
		{
			`203.0.113.53 - - [20/Nov/2026:10:01:09 +0000] "GET / HTTP/1.1" 503 0 "-" "curl/8.5.0" ups="503" upstream="10.0.0.2:80" "example.com"`,
			`{"client":"203.0.113.53","upstream_status":"503","upstream":"10.0.0.2:80"}`,
		},
		{
			// a quoted field that is not an address is not taken for X-Forwarded-For
			`203.0.113.53 - - [20/Nov/2026:10:01:09 +0000] "GET / HTTP/1.1" 200 0 "-" "curl/8.5.0" "example.com" "198.51.100.7"`,
			`{"client":"203.0.113.53","host":null}`,
		},
	}
	for _, tt := range tests {
		checkSubset(t, p, tt.line, tt.want)
	}
}

func TestNoMatchIsErrNoMatch(t *testing.T) {
	for _, p := range []parsers.Func{NewAccess(Combined(), parsers.Options{}), NewJSONAccess(parsers.Options{}), NewError(parsers.Options{})} {
		for _, line := range []string{"", "garbage", "{", `{"status":"abc"}`, "2026/11/20 10:01:02 [bogus] 1#1: x"} {
			if _, err := p([]byte(line)); !errors.Is(err, parsers.ErrNoMatch) {
				t.Errorf("%q: err = %v, want ErrNoMatch", line, err)
			}
		}
	}
}
