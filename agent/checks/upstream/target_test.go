package upstream

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, network, addr string
		err               bool
	}{
		{in: "unix:/run/php/php8.2-fpm.sock", network: "unix", addr: "/run/php/php8.2-fpm.sock"},
		{in: "http://unix:/tmp/backend.socket:/uri/", network: "unix", addr: "/tmp/backend.socket"},
		{in: "unix:/run/php/php8.2-fpm.sock|fcgi://localhost", network: "unix", addr: "/run/php/php8.2-fpm.sock"},
		{in: "unix:/run/php/php8.2-fpm.sock|fcgi://localhost/var/www/html/", network: "unix", addr: "/run/php/php8.2-fpm.sock"},
		{in: "/run/php/php8.2-fpm.sock", network: "unix", addr: "/run/php/php8.2-fpm.sock"},
		{in: "unix:@abstract", network: "unix", addr: "@abstract"},
		{in: "127.0.0.1:9000", network: "tcp", addr: "127.0.0.1:9000"},
		{in: "[::1]:9000", network: "tcp", addr: "[::1]:9000"},
		{in: "localhost:9000", network: "tcp", addr: "localhost:9000"},
		{in: " 9000 ", network: "tcp", addr: "127.0.0.1:9000"},
		{in: "fcgi://127.0.0.1:9000/var/www/html/$1", network: "tcp", addr: "127.0.0.1:9000"},
		{in: "http://127.0.0.1:8080", network: "tcp", addr: "127.0.0.1:8080"},
		{in: "http://backend.internal/app", network: "tcp", addr: "backend.internal:80"},
		{in: "https://[2001:db8::1]/", network: "tcp", addr: "[2001:db8::1]:443"},
		{in: "", err: true},
		{in: "unix:relative.sock", err: true},
		{in: "localhost", err: true},
		{in: "fcgi://127.0.0.1/", err: true},
		{in: "127.0.0.1:99999", err: true},
		{in: "127.0.0.1:0", err: true},
		{in: ":9000", err: true},
		{in: "http://", err: true},
	}
	for _, tt := range tests {
		network, addr, err := ParseTarget(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParseTarget(%q) = %q %q; want error", tt.in, network, addr)
			}
			continue
		}
		if err != nil || network != tt.network || addr != tt.addr {
			t.Errorf("ParseTarget(%q) = %q %q %v; want %q %q", tt.in, network, addr, err, tt.network, tt.addr)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"unix:/run/php/php8.2-fpm.sock", "http://unix:/tmp/b.sock:/uri/", "unix:/x|fcgi://localhost",
		"127.0.0.1:9000", "[::1]:9000", "9000", "fcgi://127.0.0.1:9000/", "https://[2001:db8::1]/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		network, addr, err := ParseTarget(s)
		if err != nil {
			return
		}
		switch network {
		case "unix":
			if addr == "" || (addr[0] != '/' && addr[0] != '@') {
				t.Fatalf("unix address %q", addr)
			}
		case "tcp":
			if !strings.Contains(addr, ":") {
				t.Fatalf("tcp address %q without port", addr)
			}
		default:
			t.Fatalf("network %q", network)
		}
	})
}
