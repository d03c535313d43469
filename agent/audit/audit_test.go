package audit

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/firewall"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// fakeLister answers with captured text.
type fakeLister struct {
	v4, v6 string
	err    error // returned by Rules, e.g. a held xtables lock
}

func (f fakeLister) Rules(_ context.Context, fam firewall.Family) ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	if fam == firewall.IPv4 {
		return []byte(f.v4), nil
	}
	return []byte(f.v6), nil
}
func (f fakeLister) Version(context.Context) (string, error) {
	return "iptables v1.8.9 (nf_tables)", nil
}
func (f fakeLister) IPSets(context.Context) ([]byte, error) {
	return nil, fmt.Errorf("ipset: %w", firewall.ErrNotInstalled)
}
func (f fakeLister) Nft(context.Context) ([]byte, error) {
	return nil, fmt.Errorf("nft: %w", firewall.ErrNotInstalled)
}

const nginxConf = `events {}
http {
    include /etc/nginx/conf.d/*.conf;
    server {
        listen 80;
        listen 443 ssl;
        server_name example.test www.example.test _;
        location ~ \.php$ { fastcgi_pass unix:/run/php/php8.2-fpm.sock; fastcgi_read_timeout 300s; }
    }
}
`

const poolConf = `[www]
user = www-data
listen = /run/php/php8.2-fpm.sock
pm = dynamic
pm.max_children = 20
`

func procDir(t *testing.T, tcp string) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "net"), 0o755)
	os.WriteFile(filepath.Join(dir, "net", "tcp"), []byte(tcp), 0o644)
	return dir
}

const hdr = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestRunOutcome(t *testing.T) {
	ranges, _ := firewall.Embedded()
	allow := "-P INPUT DROP\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n"
	public := hdr + "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n" +
		"   1: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0 100 0 0 10 0\n"
	local := hdr + "   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n"
	var seen []string
	dial := func(uint16) checks.TLSDialer {
		return func(_ context.Context, name string) (tls.ConnectionState, error) {
			seen = append(seen, name)
			return tls.ConnectionState{}, fmt.Errorf("remote error: tls: handshake failure")
		}
	}
	fsys := fstest.MapFS{
		"etc/nginx/nginx.conf":                    {Data: []byte(nginxConf)},
		"etc/php/8.2/fpm/php-fpm.conf":            {Data: []byte("[global]\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n")},
		"etc/php/8.2/fpm/pool.d/www.conf":         {Data: []byte(poolConf)},
		"etc/nginx/conf.d/cloudflare-realip.conf": {Data: []byte("set_real_ip_from 173.245.48.0/20;\nreal_ip_header CF-Connecting-IP;\n")},
	}
	mem := func(context.Context) (checks.Memory, error) {
		return checks.Memory{Total: 1536 << 20, Available: 1 << 29}, nil
	}
	base := func(tcp string, l firewall.Lister) Options {
		return Options{Ranges: ranges, Lister: l, FS: fsys, ProcRoot: procDir(t, tcp), Dial: dial, Memory: mem,
			Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
	}
	tests := []struct {
		name   string
		opts   Options
		want   Outcome
		status map[string]checks.Status
	}{
		{"healthy but TLS broken", base(public, fakeLister{v4: allow, v6: allow}), Failed, map[string]checks.Status{
			"listener.80": checks.Pass, "listener.443": checks.Pass, "firewall.cloudflare_allowed.ipv4": checks.Pass,
			"firewall.origin_exposed": checks.Warn, "tls.certificate": checks.Fail, "nginx.real_ip": checks.Warn,
			"nginx.proxy_timeouts": checks.Warn, "php_fpm.max_children": checks.Warn}},
		{"loopback only", base(local, fakeLister{v4: allow, v6: allow}), Failed, map[string]checks.Status{
			"listener.80": checks.Fail, "listener.443": checks.Fail, "tls.certificate": checks.Skip}},
		{"lock held", func() Options {
			o := base(public, fakeLister{err: fmt.Errorf("exit status 4: Another app is currently holding the xtables lock. Stopped waiting after 5s.")})
			o.Ports = []uint16{80}
			return o
		}(), Incomplete, map[string]checks.Status{
			"listener.80": checks.Pass, "firewall.cloudflare_allowed.ipv4": checks.Skip, "firewall.origin_exposed": checks.Skip}},
		{"no firewall, port 80 only", func() Options {
			o := base(public, nil)
			o.Ports = []uint16{80}
			o.NoFirewall = "not root"
			return o
		}(), Passed, map[string]checks.Status{"listener.80": checks.Pass, "firewall.stale_ranges": checks.Skip, "tls.certificate": checks.Skip}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := Run(context.Background(), tt.opts)
			for id, want := range tt.status {
				if c := byID(r.Checks, id); c.Status != want {
					t.Errorf("%s: %s %s (want %s)", id, c.Status, c.Summary, want)
				}
			}
			if tt.name == "healthy but TLS broken" && strings.Join(seen, ",") != "example.test,www.example.test," {
				t.Errorf("SNI names tried: %q", seen)
			}
			if got := r.Outcome(); got != tt.want {
				t.Errorf("outcome %d, want %d (errors %q)", got, tt.want, r.Errors)
			}
		})
	}
}

func TestOutcomePrecedence(t *testing.T) {
	pass := checks.Check{Status: checks.Pass}
	tests := []struct {
		r    Report
		want Outcome
	}{
		{Report{Checks: []checks.Check{pass, {Status: checks.Warn}, {Status: checks.Skip}}}, Passed},
		{Report{Checks: []checks.Check{pass, {Status: checks.Fail}}, Errors: []string{"lock"}}, Failed},
		{Report{Checks: []checks.Check{pass}, Errors: []string{"xtables lock held"}}, Incomplete},
	}
	for i, tt := range tests {
		if got := tt.r.Outcome(); got != tt.want {
			t.Errorf("%d: %d, want %d", i, got, tt.want)
		}
	}
}

func TestCheckSSH(t *testing.T) {
	if err := CheckSSH("203.0.113.9 51234 198.51.100.1 22", []uint16{80, 443}); err != nil {
		t.Error(err)
	}
	if err := CheckSSH("203.0.113.9 51234 198.51.100.1 443", []uint16{80, 443}); err == nil {
		t.Error("SSH on 443 not refused")
	}
	if err := CheckSSH("", []uint16{22}); err != nil {
		t.Error(err)
	}
}

func TestTLSPort(t *testing.T) {
	ngx := func(conf string) *nginxconf.Config {
		t.Helper()
		c, err := nginxconf.Load(fstest.MapFS{"nginx.conf": {Data: []byte(conf)}}, "nginx.conf")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	plain8080 := ngx(`http { server { listen 8080; server_name a.example; } }`)
	tls8443 := ngx(`http { server { listen 8080; } server { listen 8443 ssl; server_name a.example; } }`)
	for _, tc := range []struct {
		name  string
		ports []uint16
		ngx   *nginxconf.Config
		want  uint16
	}{
		{"443 audited", []uint16{80, 443}, plain8080, 443},
		{"no configuration: the admin's other port", []uint16{80, 8443}, nil, 8443},
		{"plain HTTP port is not probed", []uint16{8080}, plain8080, 0},
		{"the ssl listen wins over a plain one", []uint16{8080, 8443}, tls8443, 8443},
		{"only port 80", []uint16{80}, nil, 0},
	} {
		got, why := tlsPort(tc.ports, tc.ngx, nil)
		if got != tc.want || (got == 0) != (why != "") {
			t.Errorf("%s: tlsPort(%v) = %d (%q), want %d", tc.name, tc.ports, got, why, tc.want)
		}
	}
}

// Without --ports the audit checks the ports the configuration listens
// on: an HTTP-only site (Cloudflare "Flexible") has no listener.443 to
// fail, and --ports still overrides, with a fix that says what to change
// rather than "start the web server" when one runs.
func TestRunDerivesPorts(t *testing.T) {
	ranges, _ := firewall.Embedded()
	fsys := fstest.MapFS{"etc/nginx/nginx.conf": {Data: []byte("events {}\nhttp { server { listen 80 default_server; listen [::]:80 default_server; } }\n")}}
	proc := procDir(t, hdr+"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n")
	os.MkdirAll(filepath.Join(proc, "812"), 0o755)
	os.WriteFile(filepath.Join(proc, "812", "comm"), []byte("nginx\n"), 0o644)
	o := Options{Ranges: ranges, FS: fsys, ProcRoot: proc, NoFirewall: "not root", Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		Memory: func(context.Context) (checks.Memory, error) { return checks.Memory{Total: 1 << 32}, nil }}
	r := Run(context.Background(), o)
	if c := byID(r.Checks, "listener.80"); c.Status != checks.Pass {
		t.Errorf("listener.80: %+v", c)
	}
	if c := byID(r.Checks, "listener.443"); c.ID != "" {
		t.Errorf("listener.443 checked on an HTTP-only site: %+v", c)
	}
	if got := DerivedPorts(o); len(got) != 1 || got[0] != 80 {
		t.Errorf("DerivedPorts = %v", got)
	}
	o.Ports, o.PortsFrom = []uint16{80, 443}, "--ports"
	r = Run(context.Background(), o)
	c := byID(r.Checks, "listener.443")
	fix := strings.Join(c.Fix, "\n")
	if c.Status != checks.Fail || !strings.Contains(c.Summary, "nginx is running (pid 812)") || !strings.Contains(c.Summary, "no web server configuration listens on port 443") ||
		!strings.Contains(fix, "remove 443 from --ports") || strings.Contains(fix, "systemctl start") {
		t.Errorf("listener.443 with --ports: %s\n%s", c.Summary, fix)
	}
}
