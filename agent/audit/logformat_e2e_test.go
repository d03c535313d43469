package audit_test

// End-to-end test of the nginx.log_format fix: the lines the check proposes
// are put where it says, real nginx and apache accept them (nginx -t,
// apache2 -t), write access lines with them, the agent reads those lines
// with its built-in combined parser (nginx) or the configured format
// (apache), and the check then passes. Servers listen on loopback ports
// picked free by the test.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/internal/testenv"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs cmd in its own process group until the test ends, and
// waits until port accepts connections.
func startServer(t *testing.T, port int, logFile string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		if i == 100 {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("%s did not start: %s", name, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// applyFix edits file as the fix says: the lines after a "# FILE:LINE: add
// right after" / "add next to" comment are inserted after LINE; a "replace"
// / "change" comment's line replaces LINE. Line numbers refer to the file
// before the edit.
func applyFix(t *testing.T, fix []string, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	insert := map[int][]string{}
	replace := map[int]string{}
	for i := 0; i < len(fix)-1; i++ {
		c, ok := strings.CutPrefix(fix[i], "# "+file+":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(c[:strings.IndexByte(c, ':')])
		if err != nil {
			t.Fatalf("fix comment %q: %v", fix[i], err)
		}
		switch {
		case strings.Contains(c, "add right after"), strings.Contains(c, "add next to"), strings.Contains(c, "add to the http block"):
			insert[n] = append(insert[n], fix[i+1])
		case strings.Contains(c, "replace"), strings.Contains(c, "change the CustomLog"):
			replace[n] = fix[i+1]
		default:
			t.Fatalf("fix comment not understood: %q", fix[i])
		}
	}
	if len(insert)+len(replace) == 0 {
		t.Fatalf("the fix names no line of %s:\n%s", file, strings.Join(fix, "\n"))
	}
	var out []string
	for i, l := range lines {
		if r, ok := replace[i+1]; ok {
			l = r
		}
		out = append(out, l)
		out = append(out, insert[i+1]...)
	}
	os.WriteFile(file, []byte(strings.Join(out, "\n")), 0o644)
}

func lastLine(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last string
	for s := bufio.NewScanner(f); s.Scan(); {
		last = s.Text()
	}
	return last
}

func TestLogFormatFixNginxEndToEnd(t *testing.T) {
	testenv.Require(t, testenv.Root(), testenv.Command("nginx", "nginx"), testenv.Command("curl", "curl"))
	dir := t.TempDir()
	port, backend := freePort(t), freePort(t)
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    server {
        listen 127.0.0.1:%[2]d;
        server_name shop.test;
        access_log %[1]s/access.log combined buffer=4k flush=1s;
        location / { proxy_pass http://127.0.0.1:%[3]d; }
    }
    server {
        listen 127.0.0.1:%[3]d;
        access_log off;
        location / { return 200 "app\n"; }
    }
}
`, dir, port, backend)), 0o644)
	load := func() *nginxconf.Config {
		c, err := nginxconf.Load(os.DirFS("/"), conf)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := checks.LogFormatCheck(load(), nil)
	if c.Status != checks.Warn || !strings.Contains(c.Summary, conf+":13, format combined") {
		t.Fatalf("before: %s %s", c.Status, c.Summary)
	}
	applyFix(t, c.Fix, conf)
	if out, err := exec.Command("nginx", "-t", "-c", conf, "-p", dir).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t rejects the proposed lines: %v\n%s", err, out)
	}
	if c := checks.LogFormatCheck(load(), nil); c.Status != checks.Pass {
		t.Errorf("after the fix: %s %s\n%s", c.Status, c.Summary, readFile(conf))
	}

	startServer(t, port, filepath.Join(dir, "error.log"), "nginx", "-c", conf, "-p", dir, "-g", "daemon off;")
	url := fmt.Sprintf("http://127.0.0.1:%d/checkout?x=1", port)
	if out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-H", "Host: shop.test", "-H", "CF-Ray: 8e1f2a3b4c5d6e7f-FRA", url).CombinedOutput(); err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	var line string
	for i := 0; i < 60 && line == ""; i++ { // buffer=4k flush=1s
		time.Sleep(100 * time.Millisecond)
		line = lastLine(t, filepath.Join(dir, "access.log"))
	}
	// What the agent does when it is not told the format.
	ev, err := nginx.NewAccess(nginx.Combined(), parsers.Options{})([]byte(line))
	if err != nil {
		t.Fatalf("combined does not read %q: %v", line, err)
	}
	if ev.Status != 200 || ev.RequestTime < 0 || ev.UpstreamTime < 0 || string(ev.UpstreamStatus) != "200" ||
		string(ev.Upstream) != fmt.Sprintf("127.0.0.1:%d", backend) || string(ev.CFRay) != "8e1f2a3b4c5d6e7f-FRA" || string(ev.Host) != "shop.test" {
		t.Errorf("line %q: status %d rt %d urt %d us %q ua %q ray %q host %q", line, ev.Status, ev.RequestTime, ev.UpstreamTime, ev.UpstreamStatus, ev.Upstream, ev.CFRay, ev.Host)
	}
}

func TestLogFormatFixApacheEndToEnd(t *testing.T) {
	mpm := "/usr/lib/apache2/modules/mod_mpm_event.so"
	testenv.Require(t, testenv.Root(), testenv.Command("apache2", "apache2"), testenv.File(mpm, "apache2"), testenv.Command("curl", "curl"))
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "apache2.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`ServerRoot %[1]s
LoadModule mpm_event_module %[3]s
ServerName localhost
User www-data
Group www-data
PidFile %[1]s/apache.pid
ErrorLog %[1]s/error.log
Listen 127.0.0.1:%[2]d
DocumentRoot %[1]s
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%O \"%%{Referer}i\" \"%%{User-Agent}i\"" combined
CustomLog %[1]s/access.log combined
`, dir, port, mpm)), 0o644)
	os.Chmod(dir, 0o755)
	load := func() *apacheconf.Config {
		c, err := apacheconf.Load(os.DirFS("/"), conf)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := checks.LogFormatCheck(nil, load())
	if c.Status != checks.Warn || !strings.Contains(c.Summary, "lacks %D %{CF-Ray}i") {
		t.Fatalf("before: %s %s", c.Status, c.Summary)
	}
	applyFix(t, c.Fix, conf)
	if out, err := exec.Command("apache2", "-t", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("apache2 -t rejects the proposed lines: %v\n%s\n%s", err, out, readFile(conf))
	}
	apc := load()
	if c := checks.LogFormatCheck(nil, apc); c.Status != checks.Pass {
		t.Errorf("after the fix: %s %s\n%s", c.Status, c.Summary, readFile(conf))
	}

	startServer(t, port, filepath.Join(dir, "error.log"), "apache2", "-f", conf, "-DFOREGROUND")
	if out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-H", "CF-Ray: 8e1f2a3b4c5d6e7f-AMS", fmt.Sprintf("http://127.0.0.1:%d/", port)).CombinedOutput(); err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	var line string
	for i := 0; i < 50 && line == ""; i++ {
		time.Sleep(100 * time.Millisecond)
		line = lastLine(t, filepath.Join(dir, "access.log"))
	}
	logs := apc.AccessLogs()
	f, err := apache.CompileLogFormat(logs[0].Nickname, logs[0].Format)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := apache.NewAccess(f, parsers.Options{})([]byte(line))
	if err != nil || ev.RequestTime < 0 || string(ev.CFRay) != "8e1f2a3b4c5d6e7f-AMS" {
		t.Errorf("configured format on %q: %v, rt %d, ray %q", line, err, ev.RequestTime, ev.CFRay)
	}
	// Without the configuration, combined still reads it, %D included.
	ev, err = apache.NewAccess(apache.Combined(), parsers.Options{})([]byte(line))
	if err != nil || ev.RequestTime < 0 {
		t.Errorf("combined on %q: %v, rt %d", line, err, ev.RequestTime)
	}
}
