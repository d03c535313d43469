package sink

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactorLine(t *testing.T) {
	r := NewRedactor([]string{"password", "api_key"})
	for _, tc := range []struct{ name, in, want string }{
		{"nginx combined request and referer",
			`203.0.113.7 - - [20/Nov/2026:10:01:03 +0000] "GET /checkout?session=abc123&step=2 HTTP/1.1" 502 157 "https://example.com/cart?coupon=SAVE10" "Mozilla/5.0 (X11; Linux x86_64)"`,
			`203.0.113.7 - - [20/Nov/2026:10:01:03 +0000] "GET /checkout?session=[redacted]&step=[redacted] HTTP/1.1" 502 157 "https://example.com/cart?coupon=[redacted]" "Mozilla/5.0 (X11; Linux x86_64)"`},
		{"nginx error request",
			`2026/11/20 10:01:03 [error] 812#812: *4411 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: example.com, request: "POST /wp-admin/admin-ajax.php?action=heartbeat&_nonce=9f8e HTTP/2.0", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com", referrer: "https://example.com/wp-admin/?token=x"`,
			`2026/11/20 10:01:03 [error] 812#812: *4411 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: example.com, request: "POST /wp-admin/admin-ajax.php?action=[redacted]&_nonce=[redacted] HTTP/2.0", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com", referrer: "https://example.com/wp-admin/?token=[redacted]"`},
		{"apache error referer and bare param",
			`[Fri Nov 20 10:01:03.123456 2026] [proxy_fcgi:error] [pid 4121:tid 140] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01075: Error dispatching request to : (polling), referer: https://example.com/search?q=secret+stuff&debug`,
			`[Fri Nov 20 10:01:03.123456 2026] [proxy_fcgi:error] [pid 4121:tid 140] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01075: Error dispatching request to : (polling), referer: https://example.com/search?q=[redacted]&[redacted]`},
		{"no query untouched",
			`2026/11/20 10:01:03 [error] 812#812: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, request: "GET / HTTP/1.1"`,
			`2026/11/20 10:01:03 [error] 812#812: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, request: "GET / HTTP/1.1"`},
		{"question mark in prose is kept",
			`php-fpm: why? because pool www is busy`,
			`php-fpm: why? because pool www is busy`},
		{"cookie header logged by a custom format",
			`203.0.113.7 "GET / HTTP/1.1" 503 cookie="Cookie: wordpress_logged_in_abc=admin%7C1700; PHPSESSID=s3cr3t" ua="curl/8.5"`,
			`203.0.113.7 "GET / HTTP/1.1" 503 cookie="Cookie: [redacted]" ua="curl/8.5"`},
		{"set-cookie",
			`upstream sent header Set-Cookie: sid=deadbeef; Path=/; HttpOnly`,
			`upstream sent header Set-Cookie: [redacted]`},
		{"bearer keeps scheme",
			`request headers: "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig" "Host: api.example.com"`,
			`request headers: "Authorization: Bearer [redacted]" "Host: api.example.com"`},
		{"basic keeps scheme, any case",
			`proxy-authorization: Basic dXNlcjpwYXNz`,
			`proxy-authorization: Basic [redacted]`},
		{"unknown scheme redacted whole",
			`Authorization: s3cr3tvalue`,
			`Authorization: [redacted]`},
		{"extra params anywhere",
			`PHP Warning: login failed for user=bob&password=hunter2; api_key=AKIA123, mypassword=keep`,
			`PHP Warning: login failed for user=bob&password=[redacted]; api_key=[redacted], mypassword=keep`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Line(tc.in); got != tc.want {
				t.Errorf("Line(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if got := r.Line(tc.want); got != tc.want {
				t.Errorf("not idempotent: %q → %q", tc.want, got)
			}
		})
	}
}

func TestRedactorFindingCopies(t *testing.T) {
	f := testFinding("a")
	f.Summary = "14 requests to /checkout?session=abc got 502"
	orig := f.Evidence[1].Text
	got := NewRedactor(nil).Finding(f)
	if got.Summary != "14 requests to /checkout?session=[redacted] got 502" {
		t.Errorf("summary = %q", got.Summary)
	}
	if got.Evidence[1].Text == orig {
		t.Errorf("evidence not redacted: %q", got.Evidence[1].Text)
	}
	if f.Evidence[1].Text != orig {
		t.Error("input finding's evidence was modified")
	}
}

func TestNewAppliesRedactionUnlessDisabled(t *testing.T) {
	for _, tc := range []struct {
		disabled bool
		want     string
	}{
		{false, `/checkout?session=[redacted]\u0026step=[redacted]`},
		{true, `/checkout?session=abc123\u0026step=2`},
	} {
		path := filepath.Join(t.TempDir(), "findings.jsonl")
		s, err := New(def(Config{Type: TypeFile, Path: path}), Deps{Redact: RedactConfig{Disabled: tc.disabled}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), testBatch(1)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("disabled=%v: file lacks %s:\n%s", tc.disabled, tc.want, b)
		}
	}
}
