package discover

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// fakeSystem serves files from fsys, binaries from bins, and command output
// from outputs keyed by "name arg…".
func fakeSystem(fsys fs.FS, bins []string, outputs map[string]string) System {
	return System{
		FS: fsys,
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			out, ok := outputs[strings.Join(append([]string{name}, args...), " ")]
			if !ok {
				return nil, errors.New("exit status 1")
			}
			return []byte(out), nil
		},
		LookPath: func(name string) (string, error) {
			for _, b := range bins {
				if b == name {
					return "/usr/sbin/" + name, nil
				}
			}
			return "", exec.ErrNotFound
		},
	}
}

// overlay is fsys with extra files on top (for /dev/kmsg and the like).
type overlay struct {
	base  fs.FS
	extra fstest.MapFS
}

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.extra.Open(name); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// paths renders Watch as "type path [format]" lines.
func paths(ws []Watch) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(string(w.Type) + " " + w.Kind + " " + w.Path)
		if w.Format != "" {
			b.WriteString(" " + w.Format)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDebian runs on the configuration files Debian 12's nginx, apache2 and
// php8.2-fpm packages install, with the real `nginx -T` and `apache2ctl -S`
// output captured from them.
func TestDebian(t *testing.T) {
	fsys := overlay{os.DirFS("testdata/debian"), fstest.MapFS{"dev/kmsg": {}}}
	sys := fakeSystem(fsys, []string{"nginx", "apache2ctl", "journalctl"}, map[string]string{
		"/usr/sbin/nginx -T -c /etc/nginx/nginx.conf": readFile(t, "testdata/debian/nginx-T.txt"),
		"/usr/sbin/apache2ctl -S":                     readFile(t, "testdata/debian/apache2ctl-S.txt"),
	})
	h := Discover(context.Background(), Options{System: sys})
	if len(h.Problems) > 0 {
		t.Errorf("problems: %q", h.Problems)
	}
	if h.Nginx == nil || h.Nginx.Via != "nginx -T" {
		t.Fatalf("nginx = %+v", h.Nginx)
	}
	if a := h.Nginx.AccessLogs; len(a) != 1 || a[0].Format != "combined" || a[0].Compiled == nil {
		t.Errorf("nginx access logs = %+v", a)
	}
	if h.Apache == nil || h.Apache.ServerRoot != "/etc/apache2" || len(h.Apache.Servers) != 1 || h.Apache.Servers[0].Where != "/etc/apache2/sites-enabled/000-default.conf:1" {
		t.Errorf("apache = %+v", h.Apache)
	}
	if h.PHPFPM == nil || len(h.PHPFPM.Pools) != 1 || h.PHPFPM.Pools[0].Listen != "/run/php/php8.2-fpm.sock" || h.PHPFPM.Pools[0].MaxChildren != 5 {
		t.Errorf("php-fpm = %+v", h.PHPFPM)
	}
	want := `nginx_access file /var/log/nginx/access.log combined
nginx_error file /var/log/nginx/error.log
apache_access file /var/log/apache2/other_vhosts_access.log vhost_combined
apache_access file /var/log/apache2/access.log combined
apache_error file /var/log/apache2/error.log
php_fpm file /var/log/php8.2-fpm.log
kernel kmsg /dev/kmsg
`
	if got := paths(h.Watch()); got != want {
		t.Errorf("Watch =\n%s\nwant\n%s", got, want)
	}

	// Without the binaries the same files give the same logs.
	h2 := Discover(context.Background(), Options{System: fakeSystem(fsys, nil, nil)})
	if h2.Nginx == nil || h2.Nginx.Via != "files" {
		t.Fatalf("nginx from files = %+v, problems %q", h2.Nginx, h2.Problems)
	}
	if got := paths(h2.Watch()); got != want {
		t.Errorf("Watch from files =\n%s\nwant\n%s", got, want)
	}
}

const shopSite = `log_format timed '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time';
log_format jsonlog escape=json '{"time":"$time_iso8601","status":$status}';
upstream php {
	server unix:/run/php/shop.sock;
	server 127.0.0.1:9001 backup;
}
server {
	listen 443 ssl;
	server_name shop.example.com;
	access_log /var/log/nginx/shop.access.log timed;
	access_log /var/log/nginx/shop.json.log jsonlog;
	access_log /var/log/nginx/$host.log;
	access_log syslog:server=10.0.0.1 combined;
	error_log /var/log/nginx/shop.error.log warn;
	location ~ \.php$ { fastcgi_pass php; }
	location /api/ { proxy_pass http://10.0.0.5:8080/api/; }
	location /www/ { proxy_pass http://backend.internal; }
	location /legacy/ { fastcgi_pass unix:/run/php/php8.2-fpm.sock; }
}
`

func TestNginxSites(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/nginx/nginx.conf":         {Data: []byte("error_log /var/log/nginx/error.log;\nhttp {\n\tinclude /etc/nginx/sites-enabled/*;\n}\n")},
		"etc/nginx/sites-enabled/shop": {Data: []byte(shopSite)},
	}
	h := Discover(context.Background(), Options{System: fakeSystem(fsys, nil, nil), Kernel: "off"})
	n := h.Nginx
	if n == nil {
		t.Fatalf("no nginx; problems %q", h.Problems)
	}
	var ups []string
	for _, u := range n.Upstreams {
		ups = append(ups, u.Target)
	}
	if got := strings.Join(ups, " "); got != "unix:/run/php/shop.sock 127.0.0.1:9001 10.0.0.5:8080 backend.internal:80 unix:/run/php/php8.2-fpm.sock" {
		t.Errorf("upstreams = %s", got)
	}
	if len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "$host.log") {
		t.Errorf("problems = %q, want one about the variable path", h.Problems)
	}
	want := `nginx_access file /var/log/nginx/shop.access.log timed
nginx_access file /var/log/nginx/shop.json.log jsonlog
nginx_error file /var/log/nginx/error.log
nginx_error file /var/log/nginx/shop.error.log
`
	if got := paths(h.Watch()); got != want {
		t.Errorf("Watch =\n%s\nwant\n%s", got, want)
	}
	if w := h.Watch()[1]; w.Escape != "json" || w.Compiled == nil {
		t.Errorf("json access log %+v", w)
	}
	if len(n.Servers) != 1 || n.Servers[0].Names[0] != "shop.example.com" || n.Servers[0].Listens[0] != "443" {
		t.Errorf("servers = %+v", n.Servers)
	}

	// Configured lists replace discovery; a configured path that discovery
	// knows keeps its format.
	h = Discover(context.Background(), Options{System: fakeSystem(fsys, nil, nil), Kernel: "off",
		NginxAccess: []string{"/var/log/nginx/shop.access.log", "/srv/other/*.log"}, PHPFPM: []string{"/var/log/fpm.log"}})
	want = `nginx_access file /var/log/nginx/shop.access.log timed
nginx_access file /srv/other/*.log
nginx_error file /var/log/nginx/error.log
nginx_error file /var/log/nginx/shop.error.log
php_fpm file /var/log/fpm.log
`
	if got := paths(h.Watch()); got != want {
		t.Errorf("Watch with config lists =\n%s\nwant\n%s", got, want)
	}
}

const rhelHTTPD = `ServerRoot "/etc/httpd"
Listen 80
Include conf.modules.d/*.conf
User apache
Group apache
ErrorLog "logs/error_log"
LogLevel warn
<IfModule log_config_module>
    LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
    LogFormat "%h %l %u %t \"%r\" %>s %b" common
    CustomLog "logs/access_log" combined
</IfModule>
IncludeOptional conf.d/*.conf
`

const rhelPHPConf = `<Files ".user.ini">
    Require all denied
</Files>
AddType text/html .php
DirectoryIndex index.php
<IfModule !mod_php.c>
    <FilesMatch \.(php|phar)$>
        SetHandler "proxy:unix:/run/php-fpm/www.sock|fcgi://localhost"
    </FilesMatch>
</IfModule>
`

func TestRHEL(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/httpd/conf/httpd.conf":             {Data: []byte(rhelHTTPD)},
		"etc/httpd/conf.modules.d/00-base.conf": {Data: []byte("LoadModule log_config_module modules/mod_log_config.so\n")},
		"etc/httpd/conf.d/php.conf":             {Data: []byte(rhelPHPConf)},
		"etc/php-fpm.conf":                      {Data: []byte("include=/etc/php-fpm.d/*.conf\n[global]\npid = /run/php-fpm/php-fpm.pid\nerror_log = /var/log/php-fpm/error.log\ndaemonize = yes\n")},
		"etc/php-fpm.d/www.conf":                {Data: []byte("[www]\nuser = apache\ngroup = apache\nlisten = /run/php-fpm/www.sock\nlisten.acl_users = apache,nginx\npm = dynamic\npm.max_children = 50\nrequest_terminate_timeout = 300\nslowlog = /var/log/php-fpm/www-slow.log\nphp_admin_value[error_log] = /var/log/php-fpm/www-error.log\n")},
		"var/log/messages":                      {},
	}
	h := Discover(context.Background(), Options{System: fakeSystem(fsys, []string{"journalctl"}, nil)})
	if len(h.Problems) != 0 {
		t.Errorf("problems %q", h.Problems)
	}
	if h.Nginx != nil {
		t.Errorf("nginx found on a host without it: %+v", h.Nginx)
	}
	if h.Apache == nil || h.Apache.Conf != "/etc/httpd/conf/httpd.conf" || len(h.Apache.Upstreams) != 1 || h.Apache.Upstreams[0].Target != "unix:/run/php-fpm/www.sock" {
		t.Fatalf("apache = %+v", h.Apache)
	}
	p := h.PHPFPM.Pools[0]
	if p.Name != "www" || p.RequestTerminateTimeout != 300*time.Second || p.Slowlog != "/var/log/php-fpm/www-slow.log" || p.ErrorLog != "/var/log/php-fpm/www-error.log" {
		t.Errorf("pool = %+v", p)
	}
	want := `apache_access file /etc/httpd/logs/access_log combined
apache_error file /etc/httpd/logs/error_log
php_fpm file /var/log/php-fpm/error.log
kernel file /var/log/messages
`
	if got := paths(h.Watch()); got != want {
		t.Errorf("Watch =\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(h.Kernel.Reason, "/dev/kmsg") || !strings.Contains(h.Kernel.Reason, "/var/log/kern.log") {
		t.Errorf("kernel reason %q should say why kmsg and kern.log were passed over", h.Kernel.Reason)
	}
}

func TestNothingInstalled(t *testing.T) {
	h := Discover(context.Background(), Options{System: fakeSystem(fstest.MapFS{}, nil, nil)})
	if h.Nginx != nil || h.Apache != nil || h.PHPFPM != nil {
		t.Errorf("found servers on an empty host: %+v", h)
	}
	if h.Kernel.Source != "none" || !strings.Contains(h.Kernel.Reason, "journalctl: not found") {
		t.Errorf("kernel = %+v", h.Kernel)
	}
	if len(h.Watch()) != 0 {
		t.Errorf("Watch = %+v", h.Watch())
	}
	if len(h.Problems) != 1 || !strings.HasPrefix(h.Problems[0], "kernel: no kernel log source") {
		t.Errorf("problems = %q", h.Problems)
	}
}

func TestKernelChoice(t *testing.T) {
	kmsgFS := fstest.MapFS{"dev/kmsg": {}, "var/log/kern.log": {}}
	tests := []struct {
		name, setting string
		fsys          fs.FS
		bins          []string
		want          Kernel
	}{
		{"auto prefers kmsg", "auto", kmsgFS, []string{"journalctl"}, Kernel{Source: "kmsg", Path: "/dev/kmsg", Reason: "first available"}},
		{"auto falls to kern.log", "", fstest.MapFS{"var/log/kern.log": {}}, nil, Kernel{Source: "file", Path: "/var/log/kern.log"}},
		{"auto falls to journal", "auto", fstest.MapFS{}, []string{"journalctl"}, Kernel{Source: "journal", Path: "/usr/sbin/journalctl"}},
		{"journal asked", "journal", kmsgFS, []string{"journalctl"}, Kernel{Source: "journal", Path: "/usr/sbin/journalctl", Reason: "sources.kernel"}},
		{"file asked", "/var/log/kern.log", kmsgFS, nil, Kernel{Source: "file", Path: "/var/log/kern.log", Reason: "sources.kernel"}},
		{"kmsg asked but missing", "kmsg", fstest.MapFS{}, []string{"journalctl"}, Kernel{Source: "none"}},
		{"off", "off", kmsgFS, nil, Kernel{Source: "off", Reason: `sources.kernel = "off"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Discover(context.Background(), Options{System: fakeSystem(tt.fsys, tt.bins, nil), Kernel: tt.setting,
				NginxConf: "off", ApacheConf: "off", PHPFPMConf: "off"})
			got := h.Kernel
			if tt.want.Reason == "" {
				got.Reason = ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("kernel = %+v, want %+v", h.Kernel, tt.want)
			}
		})
	}
}

func TestNginxTFails(t *testing.T) {
	fsys := fstest.MapFS{"etc/nginx/nginx.conf": {Data: []byte("http { access_log /var/log/nginx/a.log; }\n")}}
	h := Discover(context.Background(), Options{System: fakeSystem(fsys, []string{"nginx"}, nil), Kernel: "off"})
	if h.Nginx == nil || h.Nginx.Via != "files" || len(h.Nginx.AccessLogs) != 1 {
		t.Fatalf("nginx = %+v", h.Nginx)
	}
	if len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "-T failed") {
		t.Errorf("problems = %q", h.Problems)
	}
}

func TestParseCtlS(t *testing.T) {
	out := `VirtualHost configuration:
*:443                  is a NameVirtualHost
         default server shop.example.com (/etc/apache2/sites-enabled/shop-ssl.conf:2)
         port 443 namevhost shop.example.com (/etc/apache2/sites-enabled/shop-ssl.conf:2)
                 alias www.shop.example.com
         port 443 namevhost blog.example.com (/etc/apache2/sites-enabled/blog-ssl.conf:1)
*:80                   127.0.0.1 (/etc/apache2/sites-enabled/000-default.conf:1)
ServerRoot: "/etc/apache2"
Main DocumentRoot: "/var/www/html"
Main ErrorLog: "/var/log/apache2/error.log"
`
	root, errLog, servers := parseCtlS([]byte(out))
	if root != "/etc/apache2" || errLog != "/var/log/apache2/error.log" {
		t.Errorf("root %q errorlog %q", root, errLog)
	}
	var got []string
	for _, s := range servers {
		got = append(got, s.Listens[0]+" "+s.Names[0]+" "+s.Where)
	}
	want := []string{"*:443 shop.example.com /etc/apache2/sites-enabled/shop-ssl.conf:2", "*:443 blog.example.com /etc/apache2/sites-enabled/blog-ssl.conf:1", "*:80 127.0.0.1 /etc/apache2/sites-enabled/000-default.conf:1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("servers =\n%q\nwant\n%q", got, want)
	}
}

func TestWatchTypes(t *testing.T) {
	// Every Watch type is a parsers.Type the agent has a parser for.
	h := &Host{Kernel: Kernel{Source: "kmsg", Path: "/dev/kmsg"}, opts: Options{NginxAccess: []string{"/a"}, NginxError: []string{"/a", "/b"}}}
	ws := h.Watch()
	if len(ws) != 3 || ws[1].Path != "/b" {
		t.Fatalf("Watch = %+v, want /a once", ws)
	}
	for _, w := range ws {
		found := false
		for _, typ := range parsers.Types {
			found = found || typ == w.Type
		}
		if !found {
			t.Errorf("type %q", w.Type)
		}
	}
}
