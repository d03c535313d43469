package checks

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// debianFS is a stock Debian 12 /etc (nginx 1.22, apache 2.4) as installed.
var debianFS = os.DirFS("../discover/testdata/debian")

func loadNginx(t *testing.T, fsys fstest.MapFS, main string) *nginxconf.Config {
	t.Helper()
	c, err := nginxconf.Load(fsys, main)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogFormatCheckNginx(t *testing.T) {
	stock, err := nginxconf.Load(debianFS, "/etc/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	dump, err := os.ReadFile("../../parsers/nginxconf/testdata/nginx-T.txt")
	if err != nil {
		t.Fatal(err)
	}
	h3, err := nginxconf.ParseDump(dump)
	if err != nil {
		t.Fatal(err)
	}
	good := "http {\n    " + OriginAgentLogFormat + "\n    server {\n        listen 80;\n        access_log /var/log/nginx/shop.log origin_agent buffer=16k;\n    }\n}\n"
	jsonFull := `http {
    log_format j escape=json '{"t":"$time_iso8601","s":$status,"rt":$request_time,"ua":"$upstream_addr","us":"$upstream_status","urt":"${upstream_response_time}","ray":"$http_cf_ray"}';
    access_log /var/log/nginx/j.log j;
}
`
	tests := []struct {
		name    string
		ngx     *nginxconf.Config
		status  Status
		summary string
		fix     []string // each must appear in the fix, in this order
	}{
		{"stock Debian: combined at nginx.conf:41", stock, Warn,
			"/var/log/nginx/access.log (/etc/nginx/nginx.conf:40, format combined) lacks $request_time $upstream_addr $upstream_status $upstream_response_time $http_cf_ray",
			[]string{"# /etc/nginx/nginx.conf:12: add right after `http {`", OriginAgentLogFormat,
				"# /etc/nginx/nginx.conf:40: replace `access_log /var/log/nginx/access.log;` with:", "access_log /var/log/nginx/access.log origin_agent;",
				"nginx -t && systemctl reload nginx"}},
		{"nginx -T of a host with main, escape=json and syslog logs", h3, Warn,
			"/tmp/h3-nginx/logs/access.log (/tmp/h3-nginx/nginx.conf:12, format main) lacks $upstream_addr $upstream_status $http_cf_ray;",
			[]string{"# /tmp/h3-nginx/nginx.conf:5: add right after `http {`", OriginAgentLogFormat,
				"replace `access_log /tmp/h3-nginx/logs/access.log main;` with:", "access_log /tmp/h3-nginx/logs/access.log origin_agent;",
				"# /tmp/h3-nginx/nginx.conf:9: add to log_format json_log (escape=json):",
				"access_log syslog:server=127.0.0.1:5514,tag=nginx origin_agent;"}},
		{"origin_agent format in use", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte(good)}}, "nginx.conf"), Pass, "all 1 access log(s)", nil},
		{"JSON with every key (${} spelling too)", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte(jsonFull)}}, "nginx.conf"), Pass, "all 1 access log(s)", nil},
		{"no access_log: nginx's default combined", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte("events {}\nhttp {\n    server { listen 80; }\n}\n")}}, "nginx.conf"), Warn,
			"nginx.conf:2 (no access_log: nginx's default), format combined",
			[]string{"# nginx.conf:2: add right after `http {`", OriginAgentLogFormat, "# nginx.conf:2: add to the http block (after the log_format):", "access_log /var/log/nginx/access.log origin_agent;"}},
		{"a format defined nowhere read is not judged", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte("http {\n    access_log /l elsewhere;\n}\n")}}, "nginx.conf"), Skip, "not found", nil},
		{"access_log off everywhere", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte("http {\n    access_log off;\n}\n")}}, "nginx.conf"), Skip, "access_log off", nil},
		{"a variable that only starts like one", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte(`http {
    log_format x '$remote_addr [$time_local] "$request" $status $request_time_ms $upstream_addr $upstream_status $upstream_response_time $http_cf_ray';
    access_log /l x;
}`)}}, "nginx.conf"), Warn, "lacks $request_time:", nil},
		{"origin_agent already defined but unused", loadNginx(t, fstest.MapFS{"nginx.conf": {Data: []byte("http {\n    " + OriginAgentLogFormat + "\n    access_log /l;\n}\n")}}, "nginx.conf"), Warn,
			"/l (nginx.conf:3, format combined)", []string{"# nginx.conf:3: replace `access_log /l;` with:", "access_log /l origin_agent;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := LogFormatCheck(tt.ngx, nil)
			if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) {
				t.Errorf("%s: %s\nwant %s containing %q", c.Status, c.Summary, tt.status, tt.summary)
			}
			fix := strings.Join(c.Fix, "\n")
			at := 0
			for _, f := range tt.fix {
				i := strings.Index(fix[at:], f)
				if i < 0 {
					t.Fatalf("fix lacks %q (after offset %d):\n%s", f, at, fix)
				}
				at += i + len(f)
			}
			if tt.name == "origin_agent already defined but unused" && strings.Count(fix, "log_format origin_agent") != 0 {
				t.Errorf("proposes the log_format again:\n%s", fix)
			}
		})
	}
}

// TestOriginAgentFormatReadWithoutHelp: a line written in the proposed
// format parses with nginx's built-in combined (what the agent uses when it
// is not told the format), and every diagnosis field comes through.
func TestOriginAgentFormatReadWithoutHelp(t *testing.T) {
	f, err := nginx.CompileFormat("origin_agent", OriginAgentFormat, nginx.EscapeDefault)
	if err != nil {
		t.Fatal(err)
	}
	_ = f
	line := `172.70.1.9 - - [03/Dec/2026:08:40:01 +0000] "GET /checkout.php?x=1 HTTP/1.1" 504 160 "-" "curl/7.88.1" rt=60.002 ua="unix:/run/php/php8.2-fpm.sock" us="504" urt="60.001" host="shop.example.com" cf_ray="8e1f2a3b4c5d6e7f-FRA"`
	for name, parse := range map[string]parsers.Func{
		"combined":     nginx.NewAccess(nginx.Combined(), parsers.Options{}),
		"origin_agent": nginx.NewAccess(f, parsers.Options{}),
	} {
		ev, err := parse([]byte(line))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Status != 504 || ev.RequestTime != 60_002_000 || ev.UpstreamTime != 60_001_000 || string(ev.UpstreamStatus) != "504" ||
			string(ev.Upstream) != "unix:/run/php/php8.2-fpm.sock" || string(ev.CFRay) != "8e1f2a3b4c5d6e7f-FRA" || string(ev.Host) != "shop.example.com" {
			t.Errorf("%s: status %d rt %d urt %d us %q ua %q ray %q host %q", name, ev.Status, ev.RequestTime, ev.UpstreamTime, ev.UpstreamStatus, ev.Upstream, ev.CFRay, ev.Host)
		}
	}
}

func TestLogFormatCheckApache(t *testing.T) {
	stock, err := apacheconf.LoadOptions(debianFS, "etc/apache2/apache2.conf", apacheconf.Options{Env: map[string]string{"APACHE_LOG_DIR": "/var/log/apache2"}})
	if err != nil {
		t.Fatal(err)
	}
	c := LogFormatCheck(nil, stock)
	if c.Status != Warn || !strings.Contains(c.Summary, "/var/log/apache2/access.log (/etc/apache2/sites-enabled/000-default.conf:21, format combined) lacks %D %{CF-Ray}i") {
		t.Errorf("stock apache: %s %s", c.Status, c.Summary)
	}
	fix := strings.Join(c.Fix, "\n")
	for _, want := range []string{"# /etc/apache2/apache2.conf:212: add next to the LogFormat lines there:\n" + ApacheOriginAgentLogFormat,
		"# /etc/apache2/sites-enabled/000-default.conf:21: change the CustomLog to:\nCustomLog /var/log/apache2/access.log origin_agent",
		"apachectl configtest"} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix lacks %q:\n%s", want, fix)
		}
	}

	fixed, err := apacheconf.Load(fstest.MapFS{"etc/apache2/apache2.conf": {Data: []byte(ApacheOriginAgentLogFormat + "\nCustomLog /var/log/apache2/access.log origin_agent\n")}}, "etc/apache2/apache2.conf")
	if err != nil {
		t.Fatal(err)
	}
	if c := LogFormatCheck(nil, fixed); c.Status != Pass {
		t.Errorf("with the proposed LogFormat: %s %s", c.Status, c.Summary)
	}

	// The proposed format's lines read as combined without help, %D
	// included (the trailing "%T/%D" pair).
	line := `172.70.1.9 - - [03/Dec/2026:08:40:01 +0000] "GET /slow.php HTTP/1.1" 503 299 "-" "curl/7.88.1" 2/2004311 "8e1f2a3b4c5d6e7f-FRA"`
	ev, err := apache.NewAccess(apache.Combined(), parsers.Options{})([]byte(line))
	if err != nil || ev.Status != 503 || ev.RequestTime != 2004311 {
		t.Errorf("combined read of the proposed format: %v, status %d, rt %d", err, ev.Status, ev.RequestTime)
	}
}

func TestFormatVars(t *testing.T) {
	got := formatVars(`$remote_addr [${time_local}] $$status "$request_time_x" $ $http_cf_ray`)
	want := []string{"remote_addr", "time_local", "status", "request_time_x", "http_cf_ray"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzLogFormatCheck: log_format text comes from any config the audit
// reads; the check never panics and names only whole variables.
func FuzzLogFormatCheck(f *testing.F) {
	f.Add(OriginAgentFormat)
	f.Add(`${request_time}$$upstream_status${`)
	f.Add(`{"rt":"$request_time"}`)
	f.Fuzz(func(t *testing.T, format string) {
		for _, v := range formatVars(format) {
			if v == "" || !strings.Contains(format, v) {
				t.Fatalf("variable %q not in %q", v, format)
			}
			for i := 0; i < len(v); i++ {
				if !isVarByte(v[i]) {
					t.Fatalf("variable %q has byte %q", v, v[i])
				}
			}
		}
		conf := "http {\n    log_format x '" + strings.NewReplacer("'", "", "\\", "").Replace(format) + "';\n    access_log /l x;\n}\n"
		if c, err := nginxconf.Load(fstest.MapFS{"n.conf": {Data: []byte(conf)}}, "n.conf"); err == nil {
			_ = LogFormatCheck(c, nil)
		}
	})
}
