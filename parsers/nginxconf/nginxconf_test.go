package nginxconf

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// debian is the layout of Debian's nginx package with a PHP site.
var debian = fstest.MapFS{
	"etc/nginx/nginx.conf": {Data: []byte(`user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include /etc/nginx/modules-enabled/*.conf;

events {
	worker_connections 768;
}

http {
	sendfile on;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	ssl_protocols TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
	access_log /var/log/nginx/access.log;
	gzip on;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
`)},
	"etc/nginx/mime.types": {Data: []byte("types {\n    text/html html htm shtml;\n}\n")},
	"etc/nginx/conf.d/cloudflare.conf": {Data: []byte(`# Cloudflare
set_real_ip_from 173.245.48.0/20;
set_real_ip_from 2400:cb00::/32;
real_ip_header CF-Connecting-IP;
log_format cf escape=json
    '{"time":"$time_iso8601",'
    '"status":$status,'
    '"ray":"$http_cf_ray"}';
`)},
	"etc/nginx/sites-enabled/default": {Data: []byte(`server {
	listen 80 default_server;
	listen [::]:80 default_server;
	listen 443 ssl http2;
	server_name shop.example.com;
	ssl_certificate /etc/letsencrypt/live/shop.example.com/fullchain.pem;
	ssl_certificate_key /etc/letsencrypt/live/shop.example.com/privkey.pem;
	root /var/www/html;
	access_log /var/log/nginx/shop.access.log cf;
	error_log syslog:server=unix:/dev/log warn;
	set_real_ip_from 103.21.244.0/22;

	location ~ \.php$ {
		include snippets/fastcgi-php.conf;
		fastcgi_pass unix:/run/php/php8.2-fpm.sock;
		fastcgi_read_timeout 2m;
	}
	location /api/ {
		proxy_pass http://127.0.0.1:3000;
		proxy_read_timeout 1h 30m;
		if ($request_method = POST) { access_log /var/log/nginx/post.log; }
	}
}
`)},
	"etc/nginx/snippets/fastcgi-php.conf": {Data: []byte("fastcgi_split_path_info ^(.+?\\.php)(/.*)$;\ntry_files $fastcgi_script_name =404;\n")},
}

func TestLoadDebian(t *testing.T) {
	c, err := Load(debian, "/etc/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	lf := c.LogFormats()
	if len(lf) != 1 || lf[0].Name != "cf" || lf[0].Escape != "json" ||
		lf[0].Format != `{"time":"$time_iso8601","status":$status,"ray":"$http_cf_ray"}` ||
		lf[0].File != "/etc/nginx/conf.d/cloudflare.conf" || lf[0].Line != 5 || lf[0].Context != "http" {
		t.Errorf("LogFormats = %+v", lf)
	}

	al := c.AccessLogs()
	var got []string
	for _, a := range al {
		got = append(got, a.Path+" "+a.Format+" "+a.Context+" "+strings.Join(a.ServerNames, ","))
	}
	want := []string{
		"/var/log/nginx/access.log combined http ",
		"/var/log/nginx/shop.access.log cf server shop.example.com",
		"/var/log/nginx/post.log combined if shop.example.com",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AccessLogs = %q, want %q", got, want)
	}

	el := c.ErrorLogs()
	if len(el) != 2 || el[0].Level != "error" || el[0].NotFile || !el[1].NotFile || el[1].Level != "warn" {
		t.Errorf("ErrorLogs = %+v", el)
	}

	srv := c.Servers()
	if len(srv) != 1 {
		t.Fatalf("Servers = %+v", srv)
	}
	s := srv[0]
	if !reflect.DeepEqual(s.Names, []string{"shop.example.com"}) || len(s.Listens) != 3 ||
		s.Listens[0].Port != 80 || !s.Listens[0].DefaultServer || s.Listens[1].Address != "[::]:80" || s.Listens[1].Port != 80 ||
		!s.Listens[2].SSL || !s.Listens[2].HTTP2 || s.Listens[2].Port != 443 ||
		s.SSLCertificates[0] != "/etc/letsencrypt/live/shop.example.com/fullchain.pem" || len(s.SSLCertificateKeys) != 1 {
		t.Errorf("Server = %+v", s)
	}

	rip := c.RealIP()
	var from []string
	for _, f := range rip.From {
		from = append(from, f.Value+"@"+f.Context)
	}
	if !reflect.DeepEqual(from, []string{"173.245.48.0/20@http", "2400:cb00::/32@http", "103.21.244.0/22@server"}) ||
		len(rip.Header) != 1 || rip.Header[0].Value != "CF-Connecting-IP" || len(rip.Recursive) != 0 {
		t.Errorf("RealIP = %+v", rip)
	}

	to := c.Timeouts()
	if len(to) != 2 || to[0].Name != "fastcgi_read_timeout" || to[0].Duration != 2*time.Minute || to[0].Context != "location" ||
		to[0].File != "/etc/nginx/sites-enabled/default" || to[0].Line != 16 ||
		to[1].Value != "1h 30m" || to[1].Duration != 90*time.Minute {
		t.Errorf("Timeouts = %+v", to)
	}

	ps := c.Passes()
	if len(ps) != 2 || ps[0].Directive != "fastcgi_pass" || ps[0].Target != "unix:/run/php/php8.2-fpm.sock" || ps[0].Line != 15 ||
		ps[1].Target != "http://127.0.0.1:3000" {
		t.Errorf("Passes = %+v", ps)
	}
	if len(c.Upstreams()) != 0 {
		t.Errorf("Upstreams = %+v, want none", c.Upstreams())
	}
}

func TestLoadRelativeIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"conf/nginx.conf":        {Data: []byte("http {\n include sites/*.conf;\n include missing/*.conf;\n}\n")},
		"conf/sites/a.conf":      {Data: []byte("server { server_name a; }\n")},
		"conf/sites/b.conf":      {Data: []byte("server { server_name b; include common.inc; }\n")},
		"conf/common.inc":        {Data: []byte("access_log logs/common.log;\n")},
		"conf/sites/ignored.txt": {Data: []byte("}")},
	}
	c, err := Load(fsys, "conf/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range c.Servers() {
		names = append(names, s.Names...)
	}
	if !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Errorf("servers = %v, want [a b] in glob order", names)
	}
	// "common.inc" in sites/b.conf is relative to the prefix (conf/), not to sites/.
	al := c.AccessLogs()
	if len(al) != 1 || al[0].File != "conf/common.inc" || al[0].ServerNames[0] != "b" {
		t.Errorf("AccessLogs = %+v", al)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"stray close brace", map[string]string{"nginx.conf": "http {\n include conf.d/site.conf;\n}\n", "conf.d/site.conf": "server {\n}\n\n}\n"}, `conf.d/site.conf:4: unexpected "}"`},
		{"unclosed block", map[string]string{"nginx.conf": "http {\n server {\n"}, `nginx.conf: unexpected end of file, expecting "}"`},
		{"missing semicolon at eof", map[string]string{"nginx.conf": "worker_processes 1"}, `unexpected end of file`},
		{"unclosed quote", map[string]string{"nginx.conf": "log_format x '$a\n"}, `nginx.conf:1: unexpected end of file, expecting "'"`},
		{"missing include", map[string]string{"nginx.conf": "include nope.conf;\n"}, `nginx.conf:1: include: read nope.conf`},
		{"include cycle", map[string]string{"nginx.conf": "include nginx.conf;\n"}, `include cycle`},
		{"semicolon alone", map[string]string{"nginx.conf": "events {}\n;\n"}, `nginx.conf:2: unexpected ";"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, d := range tt.files {
				fsys[n] = &fstest.MapFile{Data: []byte(d)}
			}
			_, err := Load(fsys, "nginx.conf")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Load(fstest.MapFS{}, "/etc/nginx/nginx.conf"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing main file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"a b;", []string{"a", "b", ";"}},
		{"a 'x y' \"z\\\"q\";", []string{"a", "x y", `z"q`, ";"}},
		{"a # comment ; {\n b;", []string{"a", "b", ";"}},
		{"location ~ \\.php$ {}", []string{"location", "~", `\.php$`, "{", "}"}},
		{"set $x ${host}x;", []string{"set", "$x", "${host}x", ";"}},
		{"a 'l1\nl2';", []string{"a", "l1\nl2", ";"}},
		{"a 'tab\\tq';", []string{"a", "tab\tq", ";"}},
		{"a#b;", []string{"a#b", ";"}},
	}
	for _, tt := range tests {
		toks, err := tokenize("t", []byte(tt.src))
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		var got []string
		for _, tk := range toks {
			got = append(got, tk.text)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: tokens %q, want %q", tt.src, got, tt.want)
		}
	}
	toks, _ := tokenize("t", []byte("a\n'b\nc'\nd;"))
	if toks[1].line != 2 || toks[2].line != 4 {
		t.Errorf("lines = %d %d, want 2 4", toks[1].line, toks[2].line)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"60", time.Minute, true},
		{"60s", time.Minute, true},
		{"2m", 2 * time.Minute, true},
		{"1h 30m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"500ms", 500 * time.Millisecond, true},
		{"1m 500ms", time.Minute + 500*time.Millisecond, true},
		{"1d", 24 * time.Hour, true},
		{"", 0, false},
		{"abc", 0, false},
		{"30m 1h", 0, false},
		{"5x", 0, false},
		{"1s 1s", 0, false},
		// Each term and the sum must fit time.Duration, or it wraps negative.
		{"2000000000y", 0, false},
		{"292y 11M", 0, false},
		{"290y", 290 * 365 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTime(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseDumpNoHeader(t *testing.T) {
	if _, err := ParseDump([]byte("nginx: [emerg] unknown directive\n")); err == nil {
		t.Error("want an error for a dump without files")
	}
}

func FuzzTokenize(f *testing.F) {
	for _, d := range debian {
		f.Add(d.Data)
	}
	f.Add([]byte("a 'b\\'c' \"d\\\"\" ${x} # c\n{ } ;"))
	f.Fuzz(func(t *testing.T, src []byte) {
		toks, err := tokenize("f", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		lines := 1 + strings.Count(string(src), "\n")
		prev := 1
		for _, tk := range toks {
			if tk.line < prev || tk.line > lines {
				t.Fatalf("token %q at line %d (previous %d, file has %d)", tk.text, tk.line, prev, lines)
			}
			prev = tk.line
		}
		// The parser must not panic on any token stream either.
		p := &parser{name: "f", toks: toks}
		_, _ = p.block(false)
	})
}

// FuzzParseTime: nginx time values come from any config the audit reads.
// An accepted value is never negative (a wrapped sum would pass the audit's
// comparison with Cloudflare's 100 s), and a rejected one says which.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"60", "60s", "1h 30m", "500ms", "1y 1M 1w 1d 1h 1m 1s 1ms", "292y 11M", "2147483648"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTime(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %v does not quote the value %q", err, s)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseTime(%q) = %v", s, d)
		}
	})
}
