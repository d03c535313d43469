package fpmconf

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestDebianPackaged reads the php8.2-fpm files exactly as Debian 12 ships
// them (copied verbatim into testdata).
func TestDebianPackaged(t *testing.T) {
	cfg, err := Load(os.DirFS("testdata/debian"), "/etc/php/*/fpm/php-fpm.conf")
	if err != nil {
		t.Fatal(err)
	}
	wantGlobal := Global{File: "etc/php/8.2/fpm/php-fpm.conf", ErrorLog: "/var/log/php8.2-fpm.log", LogLevel: "notice", PID: "/run/php/php8.2-fpm.pid"}
	if cfg.Global != wantGlobal {
		t.Errorf("Global = %+v, want %+v", cfg.Global, wantGlobal)
	}
	if len(cfg.Pools) != 1 {
		t.Fatalf("pools = %d, want 1", len(cfg.Pools))
	}
	p := cfg.Pools[0]
	p.Values = nil
	want := Pool{Name: "www", File: "etc/php/8.2/fpm/pool.d/www.conf", Line: 4, Master: "etc/php/8.2/fpm/php-fpm.conf",
		Listen: "/run/php/php8.2-fpm.sock", ListenOwner: "www-data", ListenGroup: "www-data", User: "www-data", Group: "www-data",
		PM: "dynamic", MaxChildren: 5, StartServers: 2, MinSpare: 1, MaxSpare: 3}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("pool =\n%+v\nwant\n%+v", p, want)
	}
	if got := strings.Join(cfg.Files, " "); got != "etc/php/8.2/fpm/php-fpm.conf etc/php/8.2/fpm/pool.d/www.conf" {
		t.Errorf("Files = %s", got)
	}
}

// rhelConf is php-fpm.conf as Fedora/RHEL/Remi ship it: the include comes
// before [global].
const rhelConf = `;;;;;;;;;;;;;;;;;;;;;
; FPM Configuration ;
;;;;;;;;;;;;;;;;;;;;;

; All relative paths in this configuration file are relative to PHP's install
; prefix.

; Include one or more files. If glob(3) exists, it is used to include a bunch of
; files from a glob(3) pattern. This directive can be used everywhere in the
; file.
include=/etc/php-fpm.d/*.conf

;;;;;;;;;;;;;;;;;;
; Global Options ;
;;;;;;;;;;;;;;;;;;

[global]
; Pid file
; Default Value: none
pid = /run/php-fpm/php-fpm.pid

; Error log file
; If it's set to "syslog", log is sent to syslogd instead of being written
; in a local file.
; Default Value: /var/log/php-fpm.log
error_log = /var/log/php-fpm/error.log

; Log level
; Possible Values: alert, error, warning, notice, debug
; Default Value: notice
;log_level = notice

; Send FPM to background. Set to 'no' to keep FPM in foreground for debugging.
; Default Value: yes
daemonize = yes
`

// rhelWWW is the RHEL www.conf, active lines as shipped plus a few common
// tunings.
const rhelWWW = `; Start a new pool named 'www'.
; the variable $pool can be used in any directive and will be replaced by the
; pool name ('www' here)
[www]

; Unix user/group of processes
user = apache
group = apache

listen = /run/php-fpm/www.sock

; Set permissions for unix socket, if one is used.
;listen.owner = nobody
;listen.group = nobody
;listen.mode = 0660

listen.acl_users = apache,nginx
listen.allowed_clients = 127.0.0.1

pm = dynamic
pm.max_children = 50
pm.start_servers = 5
pm.min_spare_servers = 5
pm.max_spare_servers = 35
pm.max_requests = 500
pm.status_path = /fpm-status
ping.path = /ping
request_terminate_timeout = 5m
request_slowlog_timeout = 10s
slowlog = /var/log/php-fpm/$pool-slow.log

php_admin_value[error_log] = /var/log/php-fpm/www-error.log
php_admin_flag[log_errors] = on
php_value[session.save_handler] = files
php_value[session.save_path]    = /var/lib/php/session
php_value[soap.wsdl_cache_dir]  = /var/lib/php/wsdlcache
php_value[memory_limit] = 512M
php_admin_value[memory_limit] = 256M
`

func TestRHEL(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/php-fpm.conf":        {Data: []byte(rhelConf)},
		"etc/php-fpm.d/www.conf":  {Data: []byte(rhelWWW)},
		"etc/php-fpm.d/shop.conf": {Data: []byte("[shop]\nlisten = 127.0.0.1:9001\npm = ondemand\npm.max_children = 8\n")},
	}
	cfg, err := Load(fsys, "/etc/php-fpm.conf")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Global.ErrorLog != "/var/log/php-fpm/error.log" || cfg.Global.PID != "/run/php-fpm/php-fpm.pid" || cfg.Global.LogLevel != "notice" {
		t.Errorf("Global = %+v", cfg.Global)
	}
	if len(cfg.Pools) != 2 || cfg.Pools[0].Name != "shop" || cfg.Pools[1].Name != "www" {
		t.Fatalf("pools = %+v (glob order is sorted: shop, www)", cfg.Pools)
	}
	w := cfg.Pools[1]
	if w.Listen != "/run/php-fpm/www.sock" || w.User != "apache" || w.PM != "dynamic" || w.MaxChildren != 50 ||
		w.StartServers != 5 || w.MinSpare != 5 || w.MaxSpare != 35 || w.MaxRequests != 500 {
		t.Errorf("www = %+v", w)
	}
	if w.RequestTerminateTimeout != 5*time.Minute || w.RequestSlowlogTimeout != 10*time.Second {
		t.Errorf("timeouts = %v, %v", w.RequestTerminateTimeout, w.RequestSlowlogTimeout)
	}
	if w.Slowlog != "/var/log/php-fpm/www-slow.log" {
		t.Errorf("Slowlog = %q, want $pool expanded", w.Slowlog)
	}
	if w.StatusPath != "/fpm-status" || w.PingPath != "/ping" {
		t.Errorf("status %q ping %q", w.StatusPath, w.PingPath)
	}
	if w.MemoryLimit != 256<<20 {
		t.Errorf("MemoryLimit = %d, want php_admin_value's 256M over php_value's 512M", w.MemoryLimit)
	}
	if w.ErrorLog != "/var/log/php-fpm/www-error.log" {
		t.Errorf("ErrorLog = %q", w.ErrorLog)
	}
	if w.Values["listen.acl_users"] != "apache,nginx" || w.Values["php_value[session.save_path]"] != "/var/lib/php/session" {
		t.Errorf("Values = %v", w.Values)
	}
	if w.Master != "etc/php-fpm.conf" || w.Line != 4 {
		t.Errorf("Master %q Line %d", w.Master, w.Line)
	}
	if n, a := cfg.Pools[0].ListenAddr(); n != "tcp" || a != "127.0.0.1:9001" {
		t.Errorf("shop ListenAddr = %s %s", n, a)
	}
}

func TestPoolValues(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want func(p Pool) bool
	}{
		{"double quoted with semicolon", `listen = "/run/a;b.sock" ; comment`, func(p Pool) bool { return p.Listen == "/run/a;b.sock" }},
		{"single quoted", `listen = '/run/x.sock'`, func(p Pool) bool { return p.Listen == "/run/x.sock" }},
		{"inline comment", `listen = /run/x.sock ; the socket`, func(p Pool) bool { return p.Listen == "/run/x.sock" }},
		{"hash comment line", "# listen = /nope\nlisten = /yes", func(p Pool) bool { return p.Listen == "/yes" }},
		{"escaped quote", `slowlog = "/var/log/a\"b"`, func(p Pool) bool { return p.Slowlog == `/var/log/a"b` }},
		{"pool substitution", `listen = /run/php/$pool.sock`, func(p Pool) bool { return p.Listen == "/run/php/p.sock" }},
		{"bare seconds", `request_terminate_timeout = 30`, func(p Pool) bool { return p.RequestTerminateTimeout == 30*time.Second }},
		{"seconds suffix", `request_terminate_timeout = 30s`, func(p Pool) bool { return p.RequestTerminateTimeout == 30*time.Second }},
		{"hours", `request_terminate_timeout = 1h`, func(p Pool) bool { return p.RequestTerminateTimeout == time.Hour }},
		{"days", `request_slowlog_timeout = 1d`, func(p Pool) bool { return p.RequestSlowlogTimeout == 24*time.Hour }},
		{"zero is off", `request_terminate_timeout = 0`, func(p Pool) bool { return p.RequestTerminateTimeout == 0 }},
		{"memory unlimited", `php_admin_value[memory_limit] = -1`, func(p Pool) bool { return p.MemoryLimit == -1 }},
		{"memory gigabytes", `php_value[memory_limit] = 1G`, func(p Pool) bool { return p.MemoryLimit == 1<<30 }},
		{"memory kilobytes", `php_value[memory_limit] = 131072k`, func(p Pool) bool { return p.MemoryLimit == 128<<20 }},
		{"memory bytes", `php_value[memory_limit] = 1048576`, func(p Pool) bool { return p.MemoryLimit == 1<<20 }},
		{"admin wins when it comes first", "php_admin_value[memory_limit] = 64M\nphp_value[memory_limit] = 1G", func(p Pool) bool { return p.MemoryLimit == 64<<20 }},
		{"php_value error_log", `php_value[error_log] = /var/log/p.log`, func(p Pool) bool { return p.ErrorLog == "/var/log/p.log" }},
		{"static pm upper case", `pm = Static`, func(p Pool) bool { return p.PM == "static" }},
		{"key case", `PM.MAX_CHILDREN = 7`, func(p Pool) bool { return p.MaxChildren == 7 }},
		{"listen mode", `listen.mode = 0660`, func(p Pool) bool { return p.ListenMode == "0660" }},
		{"empty value", `listen.owner =`, func(p Pool) bool { return p.ListenOwner == "" }},
		{"tcp port only", `listen = 9000`, func(p Pool) bool { n, a := p.ListenAddr(); return n == "tcp" && a == "127.0.0.1:9000" }},
		{"ipv6", `listen = [::1]:9000`, func(p Pool) bool { n, a := p.ListenAddr(); return n == "tcp" && a == "[::1]:9000" }},
		{"unix", `listen = /run/php/x.sock`, func(p Pool) bool { n, a := p.ListenAddr(); return n == "unix" && a == "/run/php/x.sock" }},
		{"windows line ends", "listen = /run/x.sock\r\npm = static\r\n", func(p Pool) bool { return p.Listen == "/run/x.sock" && p.PM == "static" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(fstest.MapFS{"p.conf": {Data: []byte("[p]\n" + tt.conf + "\n")}}, "p.conf")
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Pools) != 1 {
				t.Fatalf("pools = %d", len(cfg.Pools))
			}
			if !tt.want(cfg.Pools[0]) {
				t.Errorf("unexpected pool %+v", cfg.Pools[0])
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, conf string
		want       []string
	}{
		{"no equals", "[p]\nlisten /run/x.sock\n", []string{`p.conf:2: expected key = value: "listen /run/x.sock"`}},
		{"bad section", "[p\n", []string{"p.conf:1: section header without ]"}},
		{"unterminated quote", "[p]\nlisten = \"/run\n", []string{"p.conf:2: listen: unterminated double quote"}},
		{"bad pm", "[p]\npm = sometimes\n", []string{`p.conf:2: [p] pm: "sometimes" is not static, dynamic or ondemand`}},
		{"bad count", "[p]\npm.max_children = many\n", []string{`p.conf:2: [p] pm.max_children: "many" is not a non-negative integer`}},
		{"bad duration", "[p]\nrequest_terminate_timeout = 5 minutes\n", []string{`p.conf:2: [p] request_terminate_timeout: "5 minutes" is not a duration`}},
		{"bad size", "[p]\nphp_admin_value[memory_limit] = 12Q\n", []string{`p.conf:2: [p] php_admin_value[memory_limit]: "12Q" is not a size`}},
		{"all errors at once", "[p]\npm = x\n\npm.max_children = -1\nbogus\n", []string{"p.conf:2:", "p.conf:4:", "p.conf:5:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{"p.conf": {Data: []byte(tt.conf)}}, "p.conf")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/fpm/php-fpm.conf":       {Data: []byte("[global]\nerror_log = syslog\nlog_level = warning\ninclude = pool.d/*.conf\ninclude=/etc/none/*.conf\n[inline]\nlisten = 9000\n")},
		"etc/fpm/pool.d/a.conf":      {Data: []byte("[a]\nlisten = /run/a.sock\n[inline]\npm = static\n")},
		"etc/fpm/pool.d/loop.conf":   {Data: []byte("include = /etc/fpm/pool.d/*.conf\n")},
		"etc/other/php-fpm.conf":     {Data: []byte("[global]\nerror_log = /var/log/other.log\n")},
		"etc/fpm/pool.d/notconf.txt": {Data: []byte("garbage")},
	}
	cfg, err := Load(fsys, "etc/fpm/php-fpm.conf", "etc/fpm/pool.d/a.conf", "/etc/other/*.conf", "etc/missing/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Global.ErrorLog != "syslog" || cfg.Global.LogLevel != "warning" {
		t.Errorf("Global = %+v", cfg.Global)
	}
	if len(cfg.Globals) != 2 || cfg.Globals[1].ErrorLog != "/var/log/other.log" {
		t.Errorf("Globals = %+v", cfg.Globals)
	}
	var names []string
	for _, p := range cfg.Pools {
		names = append(names, p.Name+"@"+p.File)
	}
	// The include comes before php-fpm.conf's own [inline], so a.conf opens
	// [inline] first and php-fpm.conf's section reopens the same pool.
	if got := strings.Join(names, " "); got != "a@etc/fpm/pool.d/a.conf inline@etc/fpm/pool.d/a.conf" {
		t.Errorf("pools = %s", got)
	}
	if p := cfg.Pools[1]; p.Listen != "9000" || p.PM != "static" {
		t.Errorf("inline = %+v", p)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "etc/fpm/php-fpm.conf:5: nothing matches") {
		t.Errorf("Warnings = %q", cfg.Warnings)
	}
	if len(cfg.Files) != 4 {
		t.Errorf("Files = %q, want each file once", cfg.Files)
	}
}

func TestNothingInstalled(t *testing.T) {
	cfg, err := Load(fstest.MapFS{}, "/etc/php/*/fpm/php-fpm.conf", "/etc/php-fpm.conf")
	if err != nil || len(cfg.Pools) != 0 || cfg.Global != (Global{}) {
		t.Errorf("cfg %+v err %v", cfg, err)
	}
	if _, err := Load(fstest.MapFS{}, "[bad"); err == nil {
		t.Error("bad glob: no error")
	}
}

func TestParseDurationSize(t *testing.T) {
	for _, s := range []string{"", "s", "-1", "+5", "5x", "1.5m", "99999999999999999999"} {
		if _, err := ParseDuration(s); !errors.Is(err, ErrBadValue) {
			t.Errorf("ParseDuration(%q) err = %v", s, err)
		}
	}
	for _, s := range []string{"", "M", "-2", "+1", "1T", "9999999999999G"} {
		if _, err := ParseSize(s); !errors.Is(err, ErrBadValue) {
			t.Errorf("ParseSize(%q) err = %v", s, err)
		}
	}
}
