package apacheconf

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// debian is the Debian 12 layout, with the stock files cut to the
// directives that matter plus a php-fpm site with TLS and Cloudflare's
// mod_remoteip setup.
func debian() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		"etc/apache2/apache2.conf": f(`# This is the main Apache server configuration file.
#ServerRoot "/etc/apache2"
DefaultRuntimeDir ${APACHE_RUN_DIR}
PidFile ${APACHE_PID_FILE}
Timeout 300
KeepAlive On
User ${APACHE_RUN_USER}
ErrorLog ${APACHE_LOG_DIR}/error.log
LogLevel warn
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
Include ports.conf
<Directory />
	Options FollowSymLinks
	AllowOverride None
	Require all denied
</Directory>
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>
LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" vhost_combined
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%h %l %u %t \"%r\" %>s %O" common
LogFormat "%{Referer}i -> %U" referer
LogFormat "%{User-agent}i" agent
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
`),
		"etc/apache2/ports.conf": f(`Listen 80

<IfModule ssl_module>
	Listen 443
</IfModule>

<IfModule mod_gnutls.c>
	Listen 443
</IfModule>
`),
		"etc/apache2/mods-enabled/proxy_fcgi.load": f("# Depends: proxy\nLoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so\n"),
		"etc/apache2/mods-enabled/mpm_event.load":  f("LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"),
		"etc/apache2/mods-enabled/mpm_event.conf": f(`<IfModule mpm_event_module>
	StartServers			 2
	MinSpareThreads		 25
	MaxSpareThreads		 75
	ThreadLimit			 64
	ThreadsPerChild		 25
	MaxRequestWorkers	  150
	MaxConnectionsPerChild   0
</IfModule>
`),
		"etc/apache2/mods-enabled/remoteip.load": f("LoadModule remoteip_module /usr/lib/apache2/modules/mod_remoteip.so\n"),
		"etc/apache2/conf-enabled/other-vhosts-access-log.conf": f(`# Define an access log for VirtualHosts that don't define their own logfile
CustomLog ${APACHE_LOG_DIR}/other_vhosts_access.log vhost_combined
`),
		"etc/apache2/conf-enabled/php8.2-fpm.conf": f(`# Redirect to local php-fpm if mod_php is not available
<IfModule !mod_php8.c>
<IfModule proxy_fcgi_module>
    <IfModule setenvif_module>
    SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1
    </IfModule>
    <FilesMatch ".+\.ph(?:ar|p|tml)$">
        SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
    </FilesMatch>
</IfModule>
</IfModule>
`),
		"etc/apache2/conf-enabled/cloudflare.conf": f(`RemoteIPHeader CF-Connecting-IP
RemoteIPTrustedProxy 173.245.48.0/20 103.21.244.0/22 \
    2400:cb00::/32
RemoteIPTrustedProxyList conf-available/cf-ips.txt
`),
		"etc/apache2/sites-enabled/000-default.conf": f(`<VirtualHost *:80>
	#ServerName www.example.com
	ServerAdmin webmaster@localhost
	DocumentRoot /var/www/html
	ErrorLog ${APACHE_LOG_DIR}/error.log
	CustomLog ${APACHE_LOG_DIR}/access.log combined
</VirtualHost>
`),
		"etc/apache2/sites-enabled/shop.conf": f(`<VirtualHost *:443>
	ServerName shop.example.com
	ServerAlias www.shop.example.com shop.example.net
	ProxyTimeout 120
	Timeout 60
	SSLEngine on
	SSLCertificateFile /etc/letsencrypt/live/shop.example.com/fullchain.pem
	SSLCertificateKeyFile "/etc/letsencrypt/live/shop.example.com/privkey.pem"
	LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\" %D %{CF-Ray}i" shop
	CustomLog "|/usr/bin/rotatelogs -l /var/log/apache2/shop.%Y-%m-%d 86400" shop
	CustomLog ${APACHE_LOG_DIR}/shop_access.log shop env=!dontlog
	CustomLog logs/inline.log "%h %>s %D"
	ErrorLog syslog:local1
	ProxyPassMatch ^/(.*\.php(/.*)?)$ fcgi://127.0.0.1:9000/var/www/shop/$1 timeout=30
	ProxyPass /static !
	<Location /api>
		ProxyPass http://127.0.0.1:8080/api
	</Location>
	<IfModule !mod_remoteip.c>
		CustomLog /var/log/apache2/never.log combined
	</IfModule>
</VirtualHost>
`),
	}
}

func TestLoadDebian(t *testing.T) {
	c, err := Load(debian(), "etc/apache2/apache2.conf")
	if err != nil {
		t.Fatal(err)
	}
	if c.ServerRoot != "/etc/apache2" {
		t.Errorf("ServerRoot = %q", c.ServerRoot)
	}
	if got := len(c.LogFormats); got != 6 {
		t.Errorf("%d LogFormats, want 6", got)
	}
	if c.LogFormats[1].Nickname != "combined" || c.LogFormats[1].Format != `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"` {
		t.Errorf("combined = %+v", c.LogFormats[1])
	}
	if c.Main.ErrorLog == nil || c.Main.ErrorLog.Path != "/var/log/apache2/error.log" || !c.Main.ErrorLog.Readable {
		t.Errorf("main ErrorLog = %+v", c.Main.ErrorLog)
	}
	if c.Main.Timeout != 300*time.Second {
		t.Errorf("main Timeout = %v", c.Main.Timeout)
	}
	if c.MaxRequestWorkers != 150 {
		t.Errorf("MaxRequestWorkers = %d", c.MaxRequestWorkers)
	}
	wantListen := []Listen{{Port: 80}, {Port: 443}, {Port: 443}}
	if !reflect.DeepEqual(c.Listen, wantListen) {
		t.Errorf("Listen = %+v", c.Listen)
	}
	if c.RemoteIPHeader != "CF-Connecting-IP" ||
		!reflect.DeepEqual(c.RemoteIPTrustedProxies, []string{"173.245.48.0/20", "103.21.244.0/22", "2400:cb00::/32"}) ||
		!reflect.DeepEqual(c.RemoteIPTrustedProxyLists, []string{"/etc/apache2/conf-available/cf-ips.txt"}) {
		t.Errorf("remoteip = %q %q %q", c.RemoteIPHeader, c.RemoteIPTrustedProxies, c.RemoteIPTrustedProxyLists)
	}
	// php-fpm handler from conf-enabled, inside <IfModule !mod_php8.c>.
	if len(c.Main.Proxies) != 1 || c.Main.Proxies[0].Socket != "/run/php/php8.2-fpm.sock" ||
		c.Main.Proxies[0].Target != "unix:/run/php/php8.2-fpm.sock|fcgi://localhost" || c.Main.Proxies[0].Match != `.+\.ph(?:ar|p|tml)$` {
		t.Errorf("main proxies = %+v", c.Main.Proxies)
	}
	if len(c.Main.CustomLogs) != 1 || c.Main.CustomLogs[0].Path != "/var/log/apache2/other_vhosts_access.log" ||
		c.Main.CustomLogs[0].Nickname != "vhost_combined" || !strings.HasPrefix(c.Main.CustomLogs[0].Format, "%v:%p ") {
		t.Errorf("main CustomLogs = %+v", c.Main.CustomLogs)
	}
	if len(c.VHosts) != 2 {
		t.Fatalf("%d vhosts, want 2", len(c.VHosts))
	}
	def, shop := c.VHosts[0], c.VHosts[1]
	if def.Name() != "*:80" || !reflect.DeepEqual(def.Ports, []int{80}) || def.File != "sites-enabled/000-default.conf" || def.Line != 1 {
		t.Errorf("default vhost = %q %v %s:%d", def.Name(), def.Ports, def.File, def.Line)
	}
	if len(def.CustomLogs) != 1 || def.CustomLogs[0].Path != "/var/log/apache2/access.log" || def.CustomLogs[0].Nickname != "combined" || def.CustomLogs[0].VHost != "*:80" {
		t.Errorf("default CustomLogs = %+v", def.CustomLogs)
	}
	if shop.ServerName != "shop.example.com" || !reflect.DeepEqual(shop.ServerAliases, []string{"www.shop.example.com", "shop.example.net"}) ||
		!reflect.DeepEqual(shop.Ports, []int{443}) || shop.ProxyTimeout != 120*time.Second || shop.Timeout != 60*time.Second {
		t.Errorf("shop = %q %q %v %v %v", shop.ServerName, shop.ServerAliases, shop.Ports, shop.ProxyTimeout, shop.Timeout)
	}
	if shop.SSLCertFile != "/etc/letsencrypt/live/shop.example.com/fullchain.pem" || shop.SSLKeyFile != "/etc/letsencrypt/live/shop.example.com/privkey.pem" {
		t.Errorf("shop TLS = %q %q", shop.SSLCertFile, shop.SSLKeyFile)
	}
	if shop.ErrorLog == nil || !shop.ErrorLog.Syslog || shop.ErrorLog.Readable {
		t.Errorf("shop ErrorLog = %+v", shop.ErrorLog)
	}
	wantLogs := []struct {
		path, nick, format, env string
		piped, readable         bool
	}{
		{"/usr/bin/rotatelogs -l /var/log/apache2/shop.%Y-%m-%d 86400", "shop", `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %D %{CF-Ray}i`, "", true, false},
		{"/var/log/apache2/shop_access.log", "shop", `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %D %{CF-Ray}i`, "!dontlog", false, true},
		{"/etc/apache2/logs/inline.log", "", `%h %>s %D`, "", false, true},
	}
	if len(shop.CustomLogs) != len(wantLogs) {
		t.Fatalf("shop CustomLogs = %+v", shop.CustomLogs)
	}
	for i, w := range wantLogs {
		g := shop.CustomLogs[i]
		if g.Path != w.path || g.Nickname != w.nick || g.Format != w.format || g.Env != w.env || g.Piped != w.piped || g.Readable != w.readable || g.VHost != "shop.example.com" {
			t.Errorf("shop CustomLog %d = %+v", i, g)
		}
	}
	wantProxies := []Proxy{
		{Directive: "ProxyPassMatch", Match: `^/(.*\.php(/.*)?)$`, Target: "fcgi://127.0.0.1:9000/var/www/shop/$1", Timeout: 30 * time.Second, File: "sites-enabled/shop.conf", Line: 14},
		{Directive: "ProxyPass", Match: "/api", Target: "http://127.0.0.1:8080/api", File: "sites-enabled/shop.conf", Line: 17},
	}
	if !reflect.DeepEqual(shop.Proxies, wantProxies) {
		t.Errorf("shop proxies = %+v", shop.Proxies)
	}
	if n := len(c.AccessLogs()); n != 5 {
		t.Errorf("AccessLogs: %d, want 5", n)
	}
	if n := len(c.ErrorLogs()); n != 3 {
		t.Errorf("ErrorLogs: %d, want 3", n)
	}
	if len(c.Files) != 11 {
		t.Errorf("read %d files: %q", len(c.Files), c.Files)
	}
}

func TestLoadErrors(t *testing.T) {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"unterminated section", fstest.MapFS{
			"etc/apache2/apache2.conf":         f("Include sites-enabled/x.conf\n"),
			"etc/apache2/sites-enabled/x.conf": f("# x\n\n\n\n\n\n\n\n\n\n\n<VirtualHost *:80>\nServerName x\n"),
		}, "sites-enabled/x.conf:12: unterminated <VirtualHost>"},
		{"stray close", fstest.MapFS{"etc/apache2/apache2.conf": f("ServerName a\n</Directory>\n")},
			"apache2.conf:2: </Directory> without matching <Directory> section"},
		{"missing include", fstest.MapFS{"etc/apache2/apache2.conf": f("Include nope.conf\n")},
			"apache2.conf:1: include nope.conf:"},
		{"wildcard without matches", fstest.MapFS{"etc/apache2/apache2.conf": f("Include mods-enabled/*.load\n")},
			"apache2.conf:1: include mods-enabled/*.load: no matches for the wildcard"},
		{"include loop", fstest.MapFS{"etc/apache2/apache2.conf": f("Include apache2.conf\n")},
			"nested deeper than"},
		{"unterminated quote", fstest.MapFS{"etc/apache2/apache2.conf": f("LogFormat \"%h %l combined\n")},
			"apache2.conf:1: unterminated quote"},
		{"bad listen", fstest.MapFS{"etc/apache2/apache2.conf": f("Listen 80\nListen http\n")},
			"apache2.conf:2: listen: bad port"},
		{"nested vhost", fstest.MapFS{"etc/apache2/apache2.conf": f("<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>\n")},
			"apache2.conf:2: <VirtualHost> cannot occur within <VirtualHost> section"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.fs, "etc/apache2/apache2.conf")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadSyntax(t *testing.T) {
	fs := fstest.MapFS{
		"srv/httpd/conf/httpd.conf": {Data: []byte(`ServerRoot "/srv/httpd"
Define SITE example
Define LOGS /data/logs
LoadModule php_module modules/libphp8.2.so
Listen [::]:8080
Listen 127.0.0.1:8443 https
Include conf.d
<IfDefine SITE>
  ErrorLog ${LOGS}/${SITE}-error.log
</IfDefine>
<IfDefine !SITE>
  ErrorLog /never
</IfDefine>
<IfModule !mod_php8.c>
  SetHandler "proxy:fcgi://127.0.0.1:9000"
</IfModule>
ProxyTimeout 1500ms
TransferLog ${UNDEFINED}/transfer.log
CustomLog "logs/app.log" "%h \"%r\" %>s" env=app
MaxClients 42
`)},
		"srv/httpd/conf.d/b.conf": {Data: []byte("LogFormat \"%h %>s\"\n")},
		"srv/httpd/conf.d/a.conf": {Data: []byte("<VirtualHost _default_:* 10.0.0.1>\nServerName a.test\nRemoteIPHeader X-Forwarded-For\n</VirtualHost>\n")},
	}
	c, err := LoadOptions(fs, "srv/httpd/conf/httpd.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ServerRoot != "/srv/httpd" {
		t.Errorf("ServerRoot = %q", c.ServerRoot)
	}
	if !reflect.DeepEqual(c.Listen, []Listen{{Addr: "::", Port: 8080}, {Addr: "127.0.0.1", Port: 8443, Proto: "https"}}) {
		t.Errorf("Listen = %+v", c.Listen)
	}
	if c.Main.ErrorLog == nil || c.Main.ErrorLog.Path != "/data/logs/example-error.log" {
		t.Errorf("ErrorLog = %+v", c.Main.ErrorLog)
	}
	if len(c.Main.Proxies) != 0 {
		t.Errorf("proxies in <IfModule !mod_php8.c> with php loaded: %+v", c.Main.Proxies)
	}
	if c.Main.ProxyTimeout != 1500*time.Millisecond || c.MaxRequestWorkers != 42 {
		t.Errorf("ProxyTimeout %v MaxRequestWorkers %d", c.Main.ProxyTimeout, c.MaxRequestWorkers)
	}
	logs := c.Main.CustomLogs
	if len(logs) != 2 || logs[0].Path != "/srv/httpd/${UNDEFINED}/transfer.log" || logs[0].Format != "%h %>s" ||
		logs[1].Path != "/srv/httpd/logs/app.log" || logs[1].Format != `%h "%r" %>s` || logs[1].Env != "app" {
		t.Errorf("CustomLogs = %+v", logs)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "${UNDEFINED}") {
		t.Errorf("Warnings = %q", c.Warnings)
	}
	if len(c.VHosts) != 1 || c.VHosts[0].RemoteIPHeader != "X-Forwarded-For" || !reflect.DeepEqual(c.VHosts[0].Ports, []int{8080, 8443}) {
		t.Errorf("vhost = %+v", c.VHosts)
	}
	// conf.d is read in name order.
	if len(c.Files) != 3 || !strings.HasSuffix(c.Files[1], "/a.conf") {
		t.Errorf("Files = %q", c.Files)
	}
}

func TestLoadEnvOverride(t *testing.T) {
	fs := fstest.MapFS{"etc/apache2/apache2.conf": {Data: []byte("ErrorLog ${APACHE_LOG_DIR}/error.log\n")}}
	c, err := LoadOptions(fs, "etc/apache2/apache2.conf", Options{Env: map[string]string{"APACHE_LOG_DIR": "/var/log/apache2-two"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Main.ErrorLog.Path != "/var/log/apache2-two/error.log" {
		t.Errorf("ErrorLog = %q", c.Main.ErrorLog.Path)
	}
}

func TestParseTimeoutBounds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"300", 300 * time.Second, true},
		{"500ms", 500 * time.Millisecond, true},
		{"2mi", 2 * time.Minute, true},
		{"-1", 0, false},
		// 3e6 h is past time.Duration's 292 years: an error, not a negative timeout.
		{"3000000h", 0, false},
	} {
		got, err := parseTimeout(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
