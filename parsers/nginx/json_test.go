package nginx

import (
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

func TestJSONAccess(t *testing.T) {
	p := NewJSONAccess(parsers.Options{})
	tests := []struct{ name, line, want string }{
		{
			"nginx escape=json with time_local",
			`{"time_local":"22/Nov/2026:04:49:08 +0000","remote_addr":"127.0.0.1","http_cf_connecting_ip":"198.51.100.23","request":"GET /dead/ HTTP/1.1","status":502,"body_bytes_sent":157,"request_time":0.004,"upstream_status":"502, 502","upstream_addr":"127.0.0.1:18091, 127.0.0.1:18092","upstream_response_time":"0.001, 0.002","host":"example.com","http_cf_ray":"8e1f2a3b4c5d6e7f-AMS","http_referer":"","http_user_agent":"Mozilla/5.0"}`,
			`{"status":502,"time":"2026-11-22T04:49:08Z","client":"198.51.100.23","remote_addr":"127.0.0.1","method":"GET","uri":"/dead/","bytes":157,
			  "request_time_us":4000,"upstream_status":"502, 502","upstream_time_us":1000,"upstream":"127.0.0.1:18091, 127.0.0.1:18092",
			  "host":"example.com","cf_ray":"8e1f2a3b4c5d6e7f-AMS","referer":null,"user_agent":"Mozilla/5.0"}`,
		},
		{
			"string numbers, @timestamp, request parts",
			`{"@timestamp":"2026-11-22T04:49:04+01:00","remote_addr":"127.0.0.1","request_method":"GET","request_uri":"/index.php?a=warn","server_protocol":"HTTP/1.1","status":"200","bytes_sent":187,"request_time":"0.001","http_host":"example.com"}`,
			`{"status":200,"time":"2026-11-22T03:49:04Z","method":"GET","uri":"/index.php?a=warn","protocol":"HTTP/1.1","bytes":187,"request_time_us":1000,"host":"example.com"}`,
		},
		{
			"escaped strings stay raw, nested values and null skipped",
			` { "status" : 404 , "http_user_agent" : "Weird \"quoted\" agent\\", "x": {"a": ["}", 1]}, "cf_ray": null, "msec": 1795322944.5 } `,
			`{"status":404,"user_agent":"Weird \\\"quoted\\\" agent\\\\","cf_ray":null,"time":"2026-11-22T04:49:04.5Z"}`,
		},
		{"no status", `{"time_local":"22/Nov/2026:04:49:08 +0000","request":"GET / HTTP/1.1"}`, `{"nomatch":true}`},
		{"truncated", `{"status":200,"request":"GET / HTTP/1.1`, `{"nomatch":true}`},
		{"trailing garbage", `{"status":200} x`, `{"nomatch":true}`},
		{"array", `["status",200]`, `{"nomatch":true}`},
		{"combined line", `127.0.0.1 - - [22/Nov/2026:04:49:08 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, `{"nomatch":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkSubset(t, p, tt.line, tt.want) })
	}
}

func TestLooksLikeJSONAccess(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{`{"time_local":"22/Nov/2026:04:49:08 +0000","status":502}`, true},
		{`{"status":"200","request":"GET / HTTP/1.1"}`, true},
		{`{"@timestamp":"2026-11-22T04:49:04+00:00","status":200}`, true},
		{`{"status":200,"remote_addr":"1.2.3.4"}`, false},             // no time, no request
		{`{"level":"info","msg":"GET /","time":"2026-11-22"}`, false}, // an app log
		{`{"status":200,"request":"GET /"`, false},                    // truncated
		{`127.0.0.1 - - [22/Nov/2026:04:49:08 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := LooksLikeJSONAccess([]byte(tt.line)); got != tt.want {
			t.Errorf("LooksLikeJSONAccess(%s) = %v, want %v", tt.line, got, tt.want)
		}
	}
}
