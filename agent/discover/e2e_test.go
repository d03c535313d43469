package discover

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestRealBinaries runs discovery with the real nginx (`nginx -T`) on a
// configuration the test writes, and a php-fpm configuration that the real
// php-fpm accepts (`php-fpm -t`). Under ORIGIN_AGENT_E2E=1 it must run.
func TestRealBinaries(t *testing.T) {
	fpmBin, err := findFPM()
	if err != nil {
		fpmBin = "php-fpm"
	}
	// nginx -T needs root to test the configuration.
	testenv.Require(t, testenv.Root(), testenv.Command("nginx", "nginx"), testenv.Command(fpmBin, "php-fpm"))
	nginxBin, _ := exec.LookPath("nginx")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "DIR", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("sites/shop.conf", `server {
	listen 127.0.0.1:18080;
	server_name shop.test;
	access_log DIR/log/shop.access.log timed;
	location ~ \.php$ { include DIR/fastcgi.conf; fastcgi_pass unix:DIR/run/shop.sock; }
}
`)
	write("fastcgi.conf", "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n")
	nginxConf := write("nginx.conf", `pid DIR/nginx.pid;
error_log DIR/log/error.log warn;
events { worker_connections 64; }
http {
	log_format timed '$remote_addr - $remote_user [$time_local] "$request" '
	                 '$status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time';
	access_log DIR/log/access.log;
	include DIR/sites/*.conf;
}
`)
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("php-fpm.d/shop.conf", `[shop]
user = nobody
group = nogroup
listen = DIR/run/$pool.sock
listen.mode = 0660
pm = dynamic
pm.max_children = 7
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
request_terminate_timeout = 45s
slowlog = DIR/log/$pool.slow.log
request_slowlog_timeout = 5s
php_admin_value[memory_limit] = 128M
`)
	fpmConf := write("php-fpm.conf", "[global]\npid = DIR/fpm.pid\nerror_log = DIR/log/fpm.log\nlog_level = notice\ninclude = DIR/php-fpm.d/*.conf\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, fpmBin, "-t", "-y", fpmConf).CombinedOutput(); err != nil {
		t.Fatalf("php-fpm rejects the test configuration: %v\n%s", err, out)
	}

	h := Discover(ctx, Options{System: OS(), NginxConf: nginxConf, NginxBinary: nginxBin, PHPFPMConf: fpmConf, ApacheConf: "off", Kernel: "off"})
	if len(h.Problems) > 0 {
		t.Fatalf("problems: %q", h.Problems)
	}
	if h.Nginx == nil || h.Nginx.Via != "nginx -T" {
		t.Fatalf("nginx = %+v", h.Nginx)
	}
	if len(h.Nginx.Upstreams) != 1 || h.Nginx.Upstreams[0].Target != "unix:"+dir+"/run/shop.sock" {
		t.Errorf("upstreams = %+v", h.Nginx.Upstreams)
	}
	p := h.PHPFPM.Pools[0]
	if p.Listen != dir+"/run/shop.sock" || p.MaxChildren != 7 || p.RequestTerminateTimeout != 45*time.Second || p.MemoryLimit != 128<<20 ||
		p.RequestSlowlogTimeout != 5*time.Second || p.Slowlog != dir+"/log/shop.slow.log" {
		t.Errorf("pool = %+v", p)
	}
	want := "nginx_access file " + dir + "/log/access.log combined\n" +
		"nginx_access file " + dir + "/log/shop.access.log timed\n" +
		"nginx_error file " + dir + "/log/error.log\n" +
		"php_fpm file " + dir + "/log/fpm.log\n"
	if got := paths(h.Watch()); got != want {
		t.Errorf("Watch =\n%s\nwant\n%s", got, want)
	}
	if h.Watch()[1].Compiled == nil {
		t.Error("timed format not compiled")
	}
}

// findFPM finds the php-fpm binary: Debian names it by version.
func findFPM() (string, error) {
	if p, err := exec.LookPath("php-fpm"); err == nil {
		return p, nil
	}
	m, _ := filepath.Glob("/usr/sbin/php-fpm*")
	if len(m) > 0 {
		return m[0], nil
	}
	return "", exec.ErrNotFound
}
