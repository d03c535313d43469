package upstream

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

var errTarget = errors.New("not an upstream address")

// ParseTarget turns an upstream as nginx or apache configs write it into
// a network ("unix" or "tcp") and an address for net.Dial:
//
//	unix:/run/php/php8.2-fpm.sock                 (fastcgi_pass)
//	http://unix:/tmp/app.sock:/path               (proxy_pass)
//	unix:/run/php/php8.2-fpm.sock|fcgi://localhost (apache SetHandler/ProxyPass)
//	/run/php/php8.2-fpm.sock                      (php-fpm listen)
//	127.0.0.1:9000, [::1]:9000, localhost:9000, 9000 (php-fpm listen: port only)
//	fcgi://127.0.0.1:9000/, http://127.0.0.1:8080 (scheme default port 80/443)
func ParseTarget(s string) (network, address string, err error) {
	t := strings.TrimSpace(s)
	if i := strings.IndexByte(t, '|'); i >= 0 { // apache: socket|fcgi://host
		t = t[:i]
	}
	scheme := ""
	if i := strings.Index(t, "://"); i >= 0 {
		scheme, t = strings.ToLower(t[:i]), t[i+3:]
	}
	if p, ok := strings.CutPrefix(t, "unix:"); ok {
		// nginx ends the socket path with ':' before a URI.
		if i := strings.IndexByte(p, ':'); i >= 0 {
			p = p[:i]
		}
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "@") {
			return "", "", fmt.Errorf("%q: unix socket path is not absolute: %w", s, errTarget)
		}
		return "unix", p, nil
	}
	if strings.HasPrefix(t, "/") {
		return "unix", t, nil
	}
	if i := strings.IndexByte(t, '/'); i >= 0 { // drop a URI path
		t = t[:i]
	}
	if t == "" {
		return "", "", fmt.Errorf("%q: empty address: %w", s, errTarget)
	}
	if isPort(t) {
		return "tcp", net.JoinHostPort("127.0.0.1", t), nil
	}
	host, port, err := net.SplitHostPort(t)
	if err != nil {
		switch scheme {
		case "http", "ws":
			port = "80"
		case "https", "wss":
			port = "443"
		default:
			return "", "", fmt.Errorf("%q: no port: %w", s, errTarget)
		}
		host = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	}
	if host == "" || strings.ContainsAny(host, " []") || !isPort(port) {
		return "", "", fmt.Errorf("%q: bad host or port: %w", s, errTarget)
	}
	return "tcp", net.JoinHostPort(host, port), nil
}

func isPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n > 0 && n < 65536
}
