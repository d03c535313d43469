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

// TestRedactorSecretsOfRealLines: the secrets a redaction review found
// leaking, each in the shape a real log line carries it.
func TestRedactorSecretsOfRealLines(t *testing.T) {
	r := NewRedactor([]string{"password", "token"})
	for _, tc := range []struct{ name, in, want string }{
		{"path parameter session id",
			`203.0.113.7 - - [20/Nov/2026:10:01:03 +0000] "GET /shop/cart;jsessionid=0A1B2C3D4E5F?item=2 HTTP/1.1" 502 157 "-" "curl/8.0"`,
			`203.0.113.7 - - [20/Nov/2026:10:01:03 +0000] "GET /shop/cart;jsessionid=[redacted]?item=[redacted] HTTP/1.1" 502 157 "-" "curl/8.0"`},
		{"e-mail keeps the domain",
			`PHP message: PHP Warning: mail to alice.smith+orders@example.co.uk failed`,
			`PHP message: PHP Warning: mail to [redacted]@example.co.uk failed`},
		{"card number with spaces",
			`PHP message: payment failed for card 4111 1111 1111 1111 (declined)`,
			`PHP message: payment failed for card [redacted] (declined)`},
		{"card number plain",
			`order=77 pan=5500005555555559 status=declined`,
			`order=77 pan=[redacted] status=declined`},
		{"not a card: a timestamp that fails Luhn",
			`request 1795168900123456789 took 2s`,
			`request 1795168900123456789 took 2s`},
		{"JSON password",
			`PHP message: login payload {"user":"bob","password":"hunter2","remember":true}`,
			`PHP message: login payload {"user":"bob","password":"[redacted]","remember":true}`},
		{"JSON inside a quoted log field",
			`body="{\"token\":\"abc.def\",\"page\":2}"`,
			`body="{\"token\":\"[redacted]\",\"page\":2}"`},
		{"X-Api-Key header",
			`upstream request headers: X-Api-Key: sk_live_51HxYz "Host: api"`,
			`upstream request headers: X-Api-Key: [redacted]"Host: api"`},
		{"bare bearer",
			`FastCGI sent in stderr: "auth failed for Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln" while reading`,
			`FastCGI sent in stderr: "auth failed for Bearer [redacted]" while reading`},
		{"user:pass in a URL",
			`connect to redis://cache:s3cretPass@10.0.0.5:6379/0 failed`,
			`connect to redis://cache:[redacted]@10.0.0.5:6379/0 failed`},
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

// FuzzRedactorLine: any line is redacted without panicking, and redacting
// twice changes nothing more.
func FuzzRedactorLine(f *testing.F) {
	for _, s := range []string{
		`"GET /a;jsessionid=1?x=2 HTTP/1.1" Bearer abcdefghij bob@example.com 4111111111111111`,
		`{"password":"x\"y"} \"token\":\"z\" https://u:p@h/ X-Api-Key: k`,
		`Authorization: Basic dXNlcjpwYXNz; cookie: a=b`,
	} {
		f.Add(s)
	}
	r := NewRedactor([]string{"password", "token"})
	f.Fuzz(func(t *testing.T, s string) {
		once := r.Line(s)
		if twice := r.Line(once); twice != once {
			t.Errorf("not idempotent:\n in   %q\n once %q\n twice %q", s, once, twice)
		}
	})
}
