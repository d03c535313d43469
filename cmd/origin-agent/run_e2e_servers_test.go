package main

// Real servers for the `origin-agent run` end-to-end tests: a tiny PHP
// app, php-fpm8.2, nginx and apache2 + mod_proxy_fcgi, each from config
// files the test writes (the shapes of examples/generate.sh), plus a
// memory cgroup for the OOM scenario.

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// origin is one test origin: the app, its php-fpm, nginx and apache.
type origin struct {
	dir        string // everything lives below it
	www, busy  string
	logs       string // log directory
	sock       string // php-fpm unix socket
	nginxPort  int
	apachePort int

	fpm, nginx *proc
	apachePID  int
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{dir: worldDir(t, "origin")}
	o.www = filepath.Join(o.dir, "www")
	o.busy = filepath.Join(o.dir, "busy")
	o.logs = filepath.Join(o.dir, "logs")
	o.sock = filepath.Join(o.dir, "run", "php.sock")
	for _, d := range []string{o.www, o.busy, o.logs, filepath.Dir(o.sock)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(o.busy, 0o1777); err != nil {
		t.Fatal(err)
	}
	writeFile(t, o.www, "index.php", "<?php\nusleep(2000);\necho \"shop\\n\";\n")
	// slow.php records which worker serves it (busy/<pid>), so the test
	// can signal exactly that worker, then sleeps ?s= seconds.
	writeFile(t, o.www, "slow.php", `<?php
$f = '`+o.busy+`/' . getmypid();
file_put_contents($f, $_SERVER['REQUEST_URI'] ?? '');
register_shutdown_function(static function () use ($f) { @unlink($f); });
usleep((int) ((float) ($_GET['s'] ?? 1) * 1e6));
echo "report\n";
`)
	// hog.php grows to 640 MB in 8 MB strings: with memory_limit = -1
	// only the kernel (the cgroup's limit) stops it.
	writeFile(t, o.www, "hog.php", `<?php
$rows = [];
for ($i = 0; $i < 80; $i++) {
    $rows[] = str_repeat(chr(65 + $i % 26), 8 << 20);
    usleep(5000);
}
echo count($rows), "\n";
`)
	o.nginxPort = freePort(t, 20080)
	o.apachePort = freePort(t, o.nginxPort+1)
	return o
}

func (o *origin) path(name string) string { return filepath.Join(o.logs, name) }

// fpmConf writes php-fpm.conf with the pool's pm lines and extra lines.
func (o *origin) fpmConf(t *testing.T, name, pool string) string {
	t.Helper()
	return writeFile(t, o.dir, "fpm/"+name+".conf", fmt.Sprintf(`; php-fpm for the origin-agent run e2e test
[global]
pid = %[1]s/fpm/php-fpm.pid
error_log = %[2]s
log_level = notice
daemonize = no
process_control_timeout = 10s

[www]
user = www-data
group = www-data
listen = %[3]s
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
%[4]s
`, o.dir, o.path("php-fpm.log"), o.sock, pool))
}

// startFPM starts php-fpm8.2 in the foreground from conf (inside the memory
// cgroup cg when not empty: the shell joins it before exec, so the master
// and every worker it forks are in it) and waits for its socket.
func (o *origin) startFPM(t *testing.T, conf, cg string) {
	t.Helper()
	if out, err := exec.Command("php-fpm8.2", "-t", "-y", conf).CombinedOutput(); err != nil {
		t.Fatalf("php-fpm rejects %s: %v\n%s", conf, err, out)
	}
	os.Remove(o.sock)
	script := `ulimit -c 0; exec php-fpm8.2 -F -y "$1"` // no core files from SIGSEGV
	if cg != "" {
		script = `echo $$ > "$2/cgroup.procs" || exit 1; ` + script
	}
	cmd := exec.Command("sh", "-c", script, "sh", conf, cg)
	out, err := os.OpenFile(filepath.Join(o.dir, "fpm", "stderr.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	o.fpm = startProc(t, "php-fpm", cmd)
	if !eventually(10*time.Second, func() bool {
		c, err := net.Dial("unix", o.sock)
		if err == nil {
			c.Close()
		}
		return err == nil || o.fpm.exited()
	}) || o.fpm.exited() {
		t.Fatalf("php-fpm did not listen on %s: %s", o.sock, tailFile(filepath.Join(o.dir, "fpm", "stderr.out")))
	}
}

// stopFPM sends sig to the php-fpm master (TERM is `systemctl stop`) and
// waits for it to exit.
func (o *origin) stopFPM(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := o.fpm.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal php-fpm %d: %v", o.fpm.pid(), err)
	}
	if !o.fpm.wait(15 * time.Second) {
		t.Fatalf("php-fpm %d did not exit on %v", o.fpm.pid(), sig)
	}
}

// workers are the PIDs of the php-fpm master's pool processes.
func (o *origin) workers(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !strings.Contains(string(cmdline), "php-fpm: pool www") {
			continue
		}
		if ppid(pid) == o.fpm.pid() {
			out = append(out, pid)
		}
	}
	return out
}

// busyWorkers are the workers now inside slow.php, from the files it writes.
func (o *origin) busyWorkers(t *testing.T) []int {
	t.Helper()
	own := map[int]bool{}
	for _, p := range o.workers(t) {
		own[p] = true
	}
	ents, _ := os.ReadDir(o.busy)
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && own[pid] {
			out = append(out, pid)
		}
	}
	return out
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// startNginx writes nginx.conf (fastcgi to the php-fpm socket, read timeout
// 2 s) and starts nginx in the foreground. It listens on all addresses:
// the agent's listener check counts a loopback-only listener as down
// (Cloudflare could not reach it); the test's traffic stays on 127.0.0.1.
func (o *origin) startNginx(t *testing.T) {
	t.Helper()
	d := filepath.Join(o.dir, "nginx")
	conf := writeFile(t, d, "nginx.conf", fmt.Sprintf(`# nginx for the origin-agent run e2e test
user www-data;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[2]s notice;

events {
    worker_connections 512;
}

http {
    default_type text/plain;
    keepalive_timeout 65;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    access_log %[3]s combined;

    server {
        listen %[4]d;
        server_name shop.example.com;
        root %[5]s;
        index index.php;

        location ~ \.php$ {
            try_files $uri =404;
            fastcgi_pass unix:%[6]s;
            fastcgi_read_timeout 2s;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param REMOTE_ADDR $remote_addr;
        }
    }
}
`, d, o.path("error.log"), o.path("access.log"), o.nginxPort, o.www, o.sock))
	if err := os.MkdirAll(filepath.Join(d, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nginx", "-t", "-p", d, "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("nginx rejects %s: %v\n%s", conf, err, out)
	}
	cmd := exec.Command("nginx", "-p", d, "-c", conf, "-g", "daemon off;")
	o.nginx = startProc(t, "nginx", cmd)
	waitTCP(t, o.nginxPort, o.nginx)
}

// startApache writes a self-contained apache2.conf (mpm_event,
// mod_proxy_fcgi to the php-fpm socket, as Debian's php8.2-fpm.conf does
// it) and starts apache2, which daemonizes: its PidFile names our process.
func (o *origin) startApache(t *testing.T) {
	t.Helper()
	d := filepath.Join(o.dir, "apache")
	m := "/usr/lib/apache2/modules"
	conf := writeFile(t, d, "apache2.conf", fmt.Sprintf(`# apache2 for the origin-agent run e2e test
ServerRoot "%[1]s"
ServerName shop.example.com
Listen 127.0.0.1:%[2]d
PidFile "%[1]s/run/apache2.pid"
DefaultRuntimeDir "%[1]s/run"
LoadModule mpm_event_module %[3]s/mod_mpm_event.so
LoadModule authz_core_module %[3]s/mod_authz_core.so
LoadModule proxy_module %[3]s/mod_proxy.so
LoadModule proxy_fcgi_module %[3]s/mod_proxy_fcgi.so
LoadModule dir_module %[3]s/mod_dir.so
<IfModule !log_config_module>
    LoadModule log_config_module %[3]s/mod_log_config.so
</IfModule>
<IfModule !unixd_module>
    LoadModule unixd_module %[3]s/mod_unixd.so
</IfModule>
User www-data
Group www-data
StartServers 1
ServerLimit 2
ThreadsPerChild 25
MaxRequestWorkers 50
Timeout 30
ErrorLog "%[4]s"
LogLevel warn
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%O \"%%{Referer}i\" \"%%{User-Agent}i\"" combined
CustomLog "%[5]s" combined
DocumentRoot "%[6]s"
DirectoryIndex index.php
<Directory />
    Require all denied
</Directory>
<Directory "%[6]s">
    Require all granted
</Directory>
<FilesMatch ".+\.php$">
    SetHandler "proxy:unix:%[7]s|fcgi://localhost"
</FilesMatch>
`, d, o.apachePort, m, o.path("apache-error.log"), o.path("apache-access.log"), o.www, o.sock))
	if err := os.MkdirAll(filepath.Join(d, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("apache2", "-t", "-d", d, "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("apache2 rejects %s: %v\n%s", conf, err, out)
	}
	if out, err := exec.Command("apache2", "-d", d, "-f", conf, "-k", "start").CombinedOutput(); err != nil {
		t.Fatalf("apache2 did not start: %v\n%s", err, out)
	}
	pidFile := filepath.Join(d, "run", "apache2.pid")
	if !eventually(10*time.Second, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		o.apachePID, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}) {
		t.Fatalf("apache2 wrote no PidFile %s: %s", pidFile, tailFile(o.path("apache-error.log")))
	}
	pid := o.apachePID
	t.Cleanup(func() {
		// apache2 is not our child: stop it by the PID it wrote.
		if syscall.Kill(pid, syscall.SIGTERM) == nil {
			eventually(10*time.Second, func() bool { return syscall.Kill(pid, 0) != nil })
		}
	})
	waitTCP(t, o.apachePort, nil)
}

// waitTCP waits until 127.0.0.1:port accepts (or p exited).
func waitTCP(t *testing.T, port int, p *proc) {
	t.Helper()
	ok := eventually(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return true
		}
		return p != nil && p.exited()
	})
	if !ok || (p != nil && p.exited()) {
		t.Fatalf("nothing listens on 127.0.0.1:%d", port)
	}
}

// memCgroup makes a cgroup v1 memory cgroup with limit bytes and removes it
// in cleanup (after the processes in it are gone).
func memCgroup(t *testing.T, limit int64) string {
	t.Helper()
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
		t.Fatalf("no cgroup v1 memory controller at %s: %v", root, err)
	}
	cg := filepath.Join(root, fmt.Sprintf("origin-agent-e2e-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatalf("make memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// Whatever is still inside was started by this test: php-fpm
		// workers whose master is gone. Kill them by PID, then rmdir.
		eventually(10*time.Second, func() bool {
			b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
			pids := strings.Fields(string(b))
			for _, s := range pids {
				if pid, err := strconv.Atoi(s); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return len(pids) == 0
		})
		if err := os.Remove(cg); err != nil {
			t.Errorf("remove memory cgroup: %v", err)
		}
	})
	if err := os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		t.Fatalf("set memory limit: %v", err)
	}
	return cg
}

func tailFile(p string) string {
	b, _ := os.ReadFile(p)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// traffic sends requests to the origin and remembers every status with
// the time it came back.
type traffic struct {
	client *http.Client
	mu     sync.Mutex
	seen   []stamped
}

type stamped struct {
	at     time.Time
	status int // 0: transport error
}

func newTraffic() *traffic {
	return &traffic{client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, // each request is a new connection, like many visitors
	}}}
}

// get requests url and returns its status (0 when it failed).
func (tr *traffic) get(url string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Host = "shop.example.com"
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0")
	status := 0
	if resp, err := tr.client.Do(req); err == nil {
		resp.Body.Close()
		status = resp.StatusCode
	}
	tr.mu.Lock()
	tr.seen = append(tr.seen, stamped{time.Now(), status})
	tr.mu.Unlock()
	return status
}

// parallel sends n requests to url at once, in the background.
func (tr *traffic) parallel(n int, url string) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr.get(url)
		}()
	}
	return &wg
}

// steady requests url every `every` until stop is called; stop waits.
func (tr *traffic) steady(url string, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				wg.Add(1)
				go func() {
					defer wg.Done()
					tr.get(url)
				}()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// firstGateway is when the first 502/503/504 after t0 came back.
func (tr *traffic) firstGateway(t0 time.Time) (time.Time, bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var first time.Time
	for _, s := range tr.seen {
		if s.at.Before(t0) || s.status < 502 || s.status > 504 {
			continue
		}
		if first.IsZero() || s.at.Before(first) {
			first = s.at
		}
	}
	return first, !first.IsZero()
}

// counts are the statuses seen since t0, e.g. {200: 40, 502: 3}.
func (tr *traffic) counts(t0 time.Time) map[int]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	m := map[int]int{}
	for _, s := range tr.seen {
		if !s.at.Before(t0) {
			m[s.status]++
		}
	}
	return m
}
