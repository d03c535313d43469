package nginxconf

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// timeoutDirectives are the upstream timeouts the audit compares with
// Cloudflare's (100 s proxy read timeout, 15 s TCP connect).
var timeoutDirectives = map[string]bool{
	"proxy_read_timeout": true, "fastcgi_read_timeout": true, "uwsgi_read_timeout": true,
	"proxy_connect_timeout": true, "fastcgi_connect_timeout": true, "uwsgi_connect_timeout": true,
	"proxy_send_timeout": true, "fastcgi_send_timeout": true,
}

// Timeout is one upstream timeout directive.
type Timeout struct {
	Name     string
	Value    string        // as written: "60s", "2m", "1h 30m", "300"
	Duration time.Duration // 0 with Err set when Value is not an nginx time
	Err      error
	Where
}

// Timeouts returns every proxy_/fastcgi_/uwsgi_ read, connect and send
// timeout at any level (http, server, location), in document order.
func (c *Config) Timeouts() []Timeout {
	var out []Timeout
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if !timeoutDirectives[d.Name] || d.HasBlock {
			return nil
		}
		t := Timeout{Name: d.Name, Value: strings.Join(d.Args, " "), Where: where(d, parents)}
		t.Duration, t.Err = ParseTime(t.Value)
		out = append(out, t)
		return nil
	})
	return out
}

// ParseTime parses nginx's time syntax (ngx_parse_time): numbers with the
// units ms, s, m, h, d, w, M (30 days), y (365 days), optionally separated
// by spaces, in decreasing order of unit as nginx requires; a bare number
// is seconds.
func ParseTime(s string) (time.Duration, error) {
	units := []struct {
		name string
		d    time.Duration
	}{{"y", 365 * 24 * time.Hour}, {"M", 30 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour},
		{"h", time.Hour}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	var total time.Duration
	var last time.Duration // the previous unit; each must be smaller
	for rest != "" {
		n, i := 0, 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			n = n*10 + int(rest[i]-'0')
			if n > 1<<31 {
				return 0, fmt.Errorf("invalid time %q: too large", s)
			}
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		rest = rest[i:]
		u := -1
		for k, x := range units {
			if strings.HasPrefix(rest, x.name) {
				u = k
				rest = rest[len(x.name):]
				break
			}
		}
		if u < 0 { // a bare number: seconds, and it must be last
			if strings.TrimSpace(rest) != "" {
				return 0, fmt.Errorf("invalid time %q", s)
			}
			u = len(units) - 1
		}
		if last != 0 && units[u].d >= last {
			return 0, fmt.Errorf("invalid time %q: units out of order", s)
		}
		last = units[u].d
		if time.Duration(n) > (math.MaxInt64-total)/units[u].d {
			return 0, fmt.Errorf("invalid time %q: too large", s)
		}
		total += time.Duration(n) * units[u].d
		rest = strings.TrimLeft(rest, " ")
	}
	return total, nil
}
