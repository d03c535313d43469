package checks

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

const procTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31245 1 0000000000000000 100 0 0 10 0                     
   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31250 1 0000000000000000 100 0 0 10 0                     
   2: 0100007F:0050 0100007F:D2B4 01 00000000:00000000 00:00000000 00000000    33        0 40001 1 0000000000000000 20 4 30 10 -1                    
`

const procTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31246 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31251 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31252 1 0000000000000000 100 0 0 10 0
`

// The one /proc/net/tcp parser (upstream.ParseTCP, host byte order) reads
// the listener table of the audit and the daemon alike.
func readSocks(t *testing.T) []upstream.TCPListener {
	t.Helper()
	v4, err := upstream.ParseTCP([]byte(procTCP))
	if err != nil {
		t.Fatal(err)
	}
	v6, err := upstream.ParseTCP([]byte(procTCP6))
	if err != nil {
		t.Fatal(err)
	}
	return append(v4, v6...)
}

func TestParseProcNetTCP(t *testing.T) {
	var got []string
	for _, s := range readSocks(t) {
		got = append(got, netip.AddrPortFrom(s.Addr.Addr().Unmap(), s.Addr.Port()).String()+" "+strconv.FormatUint(s.Inode, 10))
	}
	want := []string{"0.0.0.0:80 31245", "127.0.0.1:8081 31250", "[::]:443 31246", "[::1]:8082 31251", "127.0.0.1:8083 31252"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"hdr\n 0: 0100007F:0050 00000000:0000 0A x\n", "hdr\n 0: ZZ:0050 00000000:0000 0A 0 0 0 0 0 1\n", "hdr\n 0: 0100007F:XYZW 00000000:0000 0A 0 0 0 0 0 1\n"} {
		if _, err := upstream.ParseTCP([]byte(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestListenerCheck(t *testing.T) {
	socks := readSocks(t)
	owners := map[uint64]Proc{31245: {PID: 812, Name: "nginx"}, 31246: {PID: 812, Name: "nginx"}}
	tests := []struct {
		port    uint16
		status  Status
		summary string
	}{
		{80, Pass, "nginx (pid 812) listens on 0.0.0.0:80"},
		{443, Pass, "nginx (pid 812) listens on [::]:443"},
		{8081, Fail, "listens on port 8081 only on 127.0.0.1:8081: Cloudflare cannot reach it (521)"},
		{8082, Fail, "only on [::1]:8082"},
		{8083, Fail, "only on 127.0.0.1:8083"}, // v4-mapped ::ffff:127.0.0.1 is loopback too
		{8443, Fail, "nothing listens on port 8443: Cloudflare answers 521"},
	}
	for _, tt := range tests {
		c := ListenerCheck(tt.port, socks, owners, ListenerContext{})
		if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) || c.ID != "listener."+strconv.Itoa(int(tt.port)) {
			t.Errorf("port %d: %s %s %s", tt.port, c.ID, c.Status, c.Summary)
		}
		if c.Status == Fail && (len(c.Fix) == 0 || c.Cause != correlate.CauseListenerDown) {
			t.Errorf("port %d: fix %q cause %q", tt.port, c.Fix, c.Cause)
		}
		if c.Status == Pass && c.Cause != "" {
			t.Errorf("port %d: a pass with cause %q", tt.port, c.Cause)
		}
	}
}

// The fix of a port nobody listens on fits the situation.
func TestListenerCheckFix(t *testing.T) {
	socks := readSocks(t)
	nginx := []Proc{{PID: 812, Name: "nginx"}}
	conf443 := []WebPort{{Port: 443, Server: "nginx", Directive: "listen 443 ssl", Where: "/etc/nginx/sites-enabled/shop:4"}}
	tests := []struct {
		name      string
		lc        ListenerContext
		summary   []string
		fix, nofx string
	}{
		{"nothing runs", ListenerContext{}, []string{"no web server is running"}, "systemctl start nginx", ""},
		{"configured server stopped", ListenerContext{Configured: conf443, Running: []Proc{{PID: 9, Name: "apache2"}}},
			[]string{"nginx, whose configuration listens on it (/etc/nginx/sites-enabled/shop:4), is not running"}, "systemctl start nginx", ""},
		{"configured, running, not loaded", ListenerContext{Configured: conf443, Running: nginx},
			[]string{"nginx is running (pid 812)", "0.0.0.0:80", "/etc/nginx/sites-enabled/shop:4 says `listen 443 ssl`"}, "nginx -t && systemctl reload nginx", "systemctl start"},
		{"override, HTTP-only site", ListenerContext{Running: nginx, Override: "[checks] ports"},
			[]string{"nginx is running (pid 812) and the host listens on 0.0.0.0:80", "no web server configuration listens on port 443", "[checks] ports"},
			"`listen 443 ssl;` with ssl_certificate", "systemctl start"},
	}
	for _, tt := range tests {
		c := ListenerCheck(443, socks[:1], nil, tt.lc)
		if c.Status != Fail {
			t.Fatalf("%s: %+v", tt.name, c)
		}
		for _, s := range tt.summary {
			if !strings.Contains(c.Summary, s) {
				t.Errorf("%s: summary %q lacks %q", tt.name, c.Summary, s)
			}
		}
		fix := strings.Join(c.Fix, "\n")
		if !strings.Contains(fix, tt.fix) || (tt.nofx != "" && strings.Contains(fix, tt.nofx)) {
			t.Errorf("%s: fix %q; want %q and not %q", tt.name, fix, tt.fix, tt.nofx)
		}
	}
	if c := ListenerCheck(80, nil, nil, ListenerContext{Running: nginx, Override: "--ports"}); !strings.Contains(c.Remediation(), "`listen 80;`") {
		t.Errorf("port 80 fix: %q", c.Fix)
	}
}

func setting(v string) nginxconf.Setting { return nginxconf.Setting{Value: v} }

func TestRealIPCheck(t *testing.T) {
	cf := []netip.Prefix{netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("2400:cb00::/32")}
	tests := []struct {
		name    string
		ri      nginxconf.RealIP
		status  Status
		summary string
	}{
		{"complete", nginxconf.RealIP{From: []nginxconf.Setting{setting("173.245.48.0/20"), setting("2400:cb00::/32")}, Header: []nginxconf.Setting{setting("CF-Connecting-IP")}}, Pass, "covers all 2"},
		{"wider ranges", nginxconf.RealIP{From: []nginxconf.Setting{setting("173.245.0.0/16"), setting("2400::/12")}, Header: []nginxconf.Setting{setting("X-Forwarded-For")}, Recursive: []nginxconf.Setting{setting("on")}}, Pass, "X-Forwarded-For"},
		{"xff not recursive", nginxconf.RealIP{From: []nginxconf.Setting{setting("173.245.48.0/20"), setting("2400:cb00::/32")}, Header: []nginxconf.Setting{setting("X-Forwarded-For")}}, Warn, "without real_ip_recursive on"},
		{"v6 missing", nginxconf.RealIP{From: []nginxconf.Setting{setting("173.245.48.0/20")}, Header: []nginxconf.Setting{setting("CF-Connecting-IP")}}, Warn, "misses 1 of 2"},
		{"single address does not cover", nginxconf.RealIP{From: []nginxconf.Setting{setting("173.245.48.1"), setting("2400:cb00::/32")}, Header: []nginxconf.Setting{setting("CF-Connecting-IP")}}, Warn, "misses 1 of 2"},
		{"nothing", nginxconf.RealIP{}, Warn, "real_ip_header is not set"},
	}
	for _, tt := range tests {
		c := RealIPCheck(tt.ri, cf)
		if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) {
			t.Errorf("%s: %s %s", tt.name, c.Status, c.Summary)
		}
		if c.Status == Warn && (len(c.Fix) != 2 || !strings.Contains(c.Fix[0], "set_real_ip_from 2400:cb00::/32;\nreal_ip_header CF-Connecting-IP;") || !strings.Contains(c.Fix[0], RealIPFile)) {
			t.Errorf("%s: fix %q", tt.name, c.Fix)
		}
	}
}

func TestTimeoutsCheck(t *testing.T) {
	to := func(name, v string) nginxconf.Timeout {
		d, err := nginxconf.ParseTime(v)
		return nginxconf.Timeout{Name: name, Value: v, Duration: d, Err: err, Where: nginxconf.Where{File: "/etc/nginx/sites-enabled/app", Line: 12}}
	}
	tests := []struct {
		name    string
		ngx     []nginxconf.Timeout
		apache  []ServerTimeout
		have    bool
		status  Status
		summary string
	}{
		{"defaults", nil, nil, true, Pass, "the defaults (nginx 60 s, Apache Timeout 60 s)"},
		{"90s is fine", []nginxconf.Timeout{to("fastcgi_read_timeout", "90s"), to("proxy_connect_timeout", "300s")}, nil, true, Pass, "all 1 read timeouts"},
		{"99s is fine", []nginxconf.Timeout{to("fastcgi_read_timeout", "99s")}, nil, true, Pass, "all 1 read timeouts are below Cloudflare's 100 s"},
		// Cloudflare's timer started when it sent the request, before
		// nginx's: at exactly 100 s Cloudflare wins the race.
		{"100s races Cloudflare", []nginxconf.Timeout{to("fastcgi_read_timeout", "100s")}, nil, true, Warn, "fastcgi_read_timeout 1m40s"},
		{"120s (the old advice) is too long", []nginxconf.Timeout{to("proxy_read_timeout", "120s")}, nil, true, Warn, "Cloudflare gives up first and shows visitors 524"},
		{"5 minutes", []nginxconf.Timeout{to("proxy_read_timeout", "5m")}, nil, true, Warn, "proxy_read_timeout 5m0s (/etc/nginx/sites-enabled/app:12)"},
		{"apache", nil, []ServerTimeout{{Name: "ProxyTimeout", Value: 600 * time.Second, Where: "/etc/apache2/apache2.conf:3", Software: "apache"}}, true, Warn, "ProxyTimeout 10m0s"},
		{"no config", nil, nil, false, Skip, "no nginx or apache"},
	}
	for _, tt := range tests {
		c := TimeoutsCheck(tt.ngx, tt.apache, tt.have)
		if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) {
			t.Errorf("%s: %s %s", tt.name, c.Status, c.Summary)
		}
	}
}

func TestMaxChildrenCheck(t *testing.T) {
	const gib = 1 << 30
	pools := []Pool{{Name: "www", File: "/etc/php/8.2/fpm/pool.d/www.conf", MaxChildren: 50, MemoryLimit: 128 << 20}}
	tests := []struct {
		name    string
		pools   []Pool
		m       Memory
		status  Status
		summary string
	}{
		{"measured fits", pools, Memory{Total: 4 * gib, WorkerRSS: 40 << 20, Workers: 5}, Pass, "needs 2000 MiB (www: 50 × 40 MiB) = 49% of 4096 MiB"},
		{"memory_limit over total", pools, Memory{Total: 4 * gib}, Fail, "OOM killer"},
		{"default 64 MiB above 80%", []Pool{{Name: "a", MaxChildren: 55}}, Memory{Total: 4 * gib}, Warn, "3520 MiB"},
		{"no pools", nil, Memory{Total: gib}, Skip, "no php-fpm pool"},
	}
	for _, tt := range tests {
		c := MaxChildrenCheck(tt.pools, tt.m)
		if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) {
			t.Errorf("%s: %s %s", tt.name, c.Status, c.Summary)
		}
	}
	c := MaxChildrenCheck(pools, Memory{Total: 4 * gib})
	if len(c.Fix) != 2 || c.Fix[0] != "sed -i 's/^pm.max_children.*/pm.max_children = 22/' /etc/php/8.2/fpm/pool.d/www.conf" {
		t.Errorf("fix %q", c.Fix)
	}
}
