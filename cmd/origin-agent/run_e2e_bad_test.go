package main

// Bad input for `origin-agent run` (issue 3): unreadable files, a log
// directory that appears later, a file deleted and recreated, /dev/kmsg
// not permitted, a config with five mistakes, SIGHUP reload and SIGTERM.
// Run from TestRunE2E (the binary is built once).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

const nobody = 65534

func testBadInput(t *testing.T, bin string) {
	t.Run("unreadable_file_and_kmsg_as_nobody", func(t *testing.T) { testUnreadable(t, bin) })
	t.Run("directory_created_later", func(t *testing.T) { testDirLater(t, bin) })
	t.Run("file_deleted_and_recreated", func(t *testing.T) { testRecreated(t, bin) })
	t.Run("config_with_five_mistakes", func(t *testing.T) { testFiveMistakes(t, bin) })
	t.Run("sighup_reload", func(t *testing.T) { testReload(t, bin) })
	t.Run("health_as_nobody", func(t *testing.T) { testHealthAsNobody(t, bin) })
}

// accessLine is an nginx "combined" line at tm.
func accessLine(tm time.Time, status int, uri string) string {
	return fmt.Sprintf(`203.0.113.7 - - [%s] "GET %s HTTP/1.1" %d 150 "https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`,
		tm.UTC().Format("02/Jan/2006:15:04:05 -0700"), uri, status)
}

// refusedLine is the nginx error line of a refused FastCGI connect at tm
// (the agent runs with TZ=UTC).
func refusedLine(tm time.Time, conn int, uri string) string {
	sock := "/run/php/php8.2-fpm.sock"
	return fmt.Sprintf(`%s [error] 4121#4121: *%d connect() to unix:%s failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: shop.example.com, request: "GET %s HTTP/1.1", upstream: "fastcgi://unix:%s:", host: "shop.example.com"`,
		tm.UTC().Format("2006/01/02 15:04:05"), conn, sock, uri, sock)
}

// appendLines appends lines to path (creating it, mode 0644).
func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// outage appends n 502s to access and their refused connects to errLog.
func outage(t *testing.T, access, errLog string, n int) {
	t.Helper()
	now := time.Now()
	var a, e []string
	for i := range n {
		uri := fmt.Sprintf("/product.php?id=%d", 1000+i)
		e = append(e, refusedLine(now, 30+i, uri))
		a = append(a, accessLine(now, 502, uri))
	}
	appendLines(t, errLog, e...)
	appendLines(t, access, a...)
}

func upstreamDownIncident(f finding.Finding) bool {
	return f.Kind == finding.KindIncident && f.Cause == correlate.CauseUpstreamDown
}

// stopAgent sends SIGTERM and asserts exit status 0.
func stopAgent(t *testing.T, ag *agentRun) {
	t.Helper()
	d := ag.terminate(t)
	if ag.exitCode() != 0 {
		t.Errorf("SIGTERM: exit status %d after %v, want 0", ag.exitCode(), d)
	}
}

// The agent, run as nobody, cannot read one access log (mode 000) nor
// /dev/kmsg (dmesg_restrict): it says so, naming them, and goes on with the
// other files.
func testUnreadable(t *testing.T, bin string) {
	dir := worldDir(t, "unreadable")
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	secret := writeFile(t, dir, "logs/secret-access.log", accessLine(time.Now(), 200, "/")+"\n")
	if err := os.Chmod(secret, 0); err != nil {
		t.Fatal(err)
	}
	access := writeFile(t, dir, "logs/access.log", "")
	errLog := writeFile(t, dir, "logs/error.log", "")
	ag := startAgent(t, bin, dir, agentConfig{
		StateDir: state, NginxAccess: []string{secret, access}, NginxError: []string{errLog},
		Kernel: "kmsg", Ports: []int{}, MetricsPort: freePort(t, 20200),
	}, &syscall.Credential{Uid: nobody, Gid: nobody})
	ag.waitReady(t)

	if !ag.waitStderr(10*time.Second, regexp.MustCompile(regexp.QuoteMeta(secret)+`.*permission denied|permission denied.*`+regexp.QuoteMeta(secret))) {
		t.Errorf("no log line naming the unreadable %s with the reason:\n%s", secret, ag.stderr.String())
	}
	if !ag.waitStderr(5*time.Second, regexp.MustCompile(`(?i)level=WARN.*kmsg.*(not readable|permission|not permitted)`)) {
		t.Errorf("no warning that /dev/kmsg is not readable:\n%s", ag.stderr.String())
	}
	// Each is also one health finding naming it, with the grant.
	if h, ok := ag.waitFinding(0, 10*time.Second, isHealth(secret)); !ok || !strings.Contains(h.f.Remediation, "setfacl -m u:nobody:r "+secret) {
		t.Errorf("health finding for %s: %q (found=%v)", secret, h.raw, ok)
	}
	if h, ok := ag.waitFinding(0, 10*time.Second, func(f finding.Finding) bool { return f.Kind == finding.KindHealth && f.Check == "health.kernel" }); !ok ||
		!strings.Contains(h.f.Remediation, "CAP_SYSLOG") || !strings.Contains(h.f.Summary, "/dev/kmsg") {
		t.Errorf("health finding for the kernel log: %q (found=%v)", h.raw, ok)
	}
	outage(t, access, errLog, 6)
	if _, ok := ag.waitFinding(0, 10*time.Second, upstreamDownIncident); !ok {
		t.Errorf("no upstream_down incident from the readable files:\n%s", ag.stderr.String())
	}
	if ag.exited() {
		t.Fatalf("agent exited: %v\n%s", ag.err, ag.stderr.String())
	}
	stopAgent(t, ag)
}

// A log directory that does not exist when the agent starts is read once
// it appears, from the start of the new files.
func testDirLater(t *testing.T, bin string) {
	dir := worldDir(t, "later")
	later := filepath.Join(dir, "not-yet", "nginx")
	access, errLog := filepath.Join(later, "access.log"), filepath.Join(later, "error.log")
	ag := startAgent(t, bin, dir, agentConfig{
		StateDir: filepath.Join(dir, "state"), NginxAccess: []string{access}, NginxError: []string{errLog},
		Ports: []int{}, MetricsPort: freePort(t, 20210),
	}, nil)
	ag.waitReady(t)
	time.Sleep(500 * time.Millisecond)
	if err := os.MkdirAll(later, 0o755); err != nil {
		t.Fatal(err)
	}
	outage(t, access, errLog, 6)
	if _, ok := ag.waitFinding(0, 15*time.Second, upstreamDownIncident); !ok {
		t.Errorf("no upstream_down incident from files in a directory made after start:\n%s", ag.stderr.String())
	}
	if !eventually(5*time.Second, func() bool { return ag.linesRead(t, "nginx_access", access) == 6 }) {
		t.Errorf("lines read from %s: %v, want 6", access, ag.linesRead(t, "nginx_access", access))
	}
	stopAgent(t, ag)
}

// A log file deleted and created again: the lines of the new file are
// read, once.
func testRecreated(t *testing.T, bin string) {
	dir := worldDir(t, "recreated")
	access := writeFile(t, dir, "logs/access.log", accessLine(time.Now(), 200, "/before-start")+"\n")
	ag := startAgent(t, bin, dir, agentConfig{
		StateDir: filepath.Join(dir, "state"), NginxAccess: []string{access}, Ports: []int{}, MetricsPort: freePort(t, 20220),
	}, nil)
	ag.waitReady(t)
	time.Sleep(500 * time.Millisecond)
	appendLines(t, access, accessLine(time.Now(), 200, "/a"), accessLine(time.Now(), 200, "/b"), accessLine(time.Now(), 200, "/c"))
	if !eventually(5*time.Second, func() bool { return ag.linesRead(t, "nginx_access", access) == 3 }) {
		t.Fatalf("lines read before the delete: %v, want 3 (the line before start is skipped)", ag.linesRead(t, "nginx_access", access))
	}
	if err := os.Remove(access); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	appendLines(t, access, accessLine(time.Now(), 200, "/d"), accessLine(time.Now(), 200, "/e"), accessLine(time.Now(), 200, "/f"), accessLine(time.Now(), 200, "/g"))
	if !eventually(10*time.Second, func() bool { return ag.linesRead(t, "nginx_access", access) >= 7 }) {
		t.Fatalf("lines read after the file was recreated: %v, want 7\n%s", ag.linesRead(t, "nginx_access", access), ag.stderr.String())
	}
	time.Sleep(time.Second)
	if n := ag.linesRead(t, "nginx_access", access); n != 7 {
		t.Errorf("lines read: %v, want 7 (3 + the 4 of the new file, none twice)", n)
	}
	stopAgent(t, ag)
}

// Five different mistakes are all reported at once, each with its line.
func testFiveMistakes(t *testing.T, bin string) {
	dir := worldDir(t, "mistakes")
	conf := writeFile(t, dir, "config.toml", `[agent]
state_dir = "var/lib/origin-agent"
log_level = "loud"
[sources]
nginx_acces = ["/var/log/nginx/access.log"]
[correlate]
gap = "soon"
[checks]
ports = [80, 70000]
`)
	cmd := exec.Command(bin, "run", "--config", conf)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	p := startProc(t, "origin-agent", cmd)
	if !p.wait(10 * time.Second) {
		t.Fatal("origin-agent run with a broken config did not exit within 10 s")
	}
	if code := p.exitCode(); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	out := stderr.String()
	for _, want := range []struct {
		line int
		key  string
	}{{2, "agent.state_dir"}, {3, "agent.log_level"}, {5, "nginx_acces"}, {7, "correlate.gap"}, {9, "checks.ports"}} {
		re := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("config.toml:%d: ", want.line)) + `.*` + regexp.QuoteMeta(want.key))
		if !re.MatchString(out) {
			t.Errorf("stderr does not report line %d (%s):\n%s", want.line, want.key, out)
		}
	}
}

// SIGHUP reloads the config (a new listener port list takes effect)
// without re-reading a line or repeating a finding.
func testReload(t *testing.T, bin string) {
	dir := worldDir(t, "reload")
	access := writeFile(t, dir, "logs/access.log", "")
	errLog := writeFile(t, dir, "logs/error.log", "")
	p1 := freePort(t, 20230)
	p2 := freePort(t, p1+1)
	cfg := agentConfig{StateDir: filepath.Join(dir, "state"), NginxAccess: []string{access}, NginxError: []string{errLog},
		Ports: []int{p1}, MetricsPort: freePort(t, p2+1)}
	ag := startAgent(t, bin, dir, cfg, nil)
	ag.waitReady(t)
	listenerFailing := func(port int) func(finding.Finding) bool {
		return func(f finding.Finding) bool {
			return f.Check == fmt.Sprintf("listener.%d", port) && f.State == finding.StateFailing && f.Cause == correlate.CauseListenerDown
		}
	}
	if _, ok := ag.waitFinding(0, 5*time.Second, listenerFailing(p1)); !ok {
		t.Fatalf("no listener_down for port %d before the reload", p1)
	}
	outage(t, access, errLog, 6)
	if _, ok := ag.waitFinding(0, 10*time.Second, upstreamDownIncident); !ok {
		t.Fatalf("no upstream_down incident before the reload:\n%s", ag.stderr.String())
	}
	if !eventually(5*time.Second, func() bool { return ag.linesRead(t, "nginx_access", access) == 6 }) {
		t.Fatalf("lines read before the reload: %v, want 6", ag.linesRead(t, "nginx_access", access))
	}

	cfg.Ports = []int{p2}
	writeFile(t, dir, "config.toml", cfg.text())
	c := ag.cursor()
	if err := ag.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !ag.waitStderr(5*time.Second, regexp.MustCompile(`configuration reloaded`)) {
		t.Errorf("no log line about the reload:\n%s", ag.stderr.String())
	}
	ag.waitReady(t)
	if _, ok := ag.waitFinding(c, 5*time.Second, listenerFailing(p2)); !ok {
		t.Errorf("after SIGHUP: no listener_down for the new port %d", p2)
	}
	appendLines(t, access, accessLine(time.Now(), 200, "/after-reload-1"), accessLine(time.Now(), 200, "/after-reload-2"))
	if !eventually(5*time.Second, func() bool { return ag.linesRead(t, "nginx_access", access) >= 8 }) {
		t.Errorf("lines read after the reload: %v, want 8", ag.linesRead(t, "nginx_access", access))
	}
	// The incident open across the reload closes once, with its own id.
	if _, ok := ag.waitFinding(0, 15*time.Second, func(f finding.Finding) bool {
		return upstreamDownIncident(f) && f.State == finding.StateClosed
	}); !ok {
		t.Errorf("the incident open across the reload was not closed")
	}
	time.Sleep(time.Second)
	if n := ag.linesRead(t, "nginx_access", access); n != 8 {
		t.Errorf("lines read: %v, want 8 (6 before, 2 after the reload; none re-read)", n)
	}
	for _, s := range ag.since(c) {
		if listenerFailing(p1)(s.f) {
			t.Errorf("after SIGHUP: the old port's finding was repeated: %s", s.raw)
		}
	}
	stopAgent(t, ag)
	all := ag.since(0)
	checkWellFormed(t, all)
	opened := 0
	for _, s := range all {
		if upstreamDownIncident(s.f) && s.f.State == finding.StateOpened {
			opened++
		}
	}
	if opened != 1 {
		t.Errorf("the upstream_down incident was opened %d times, want once", opened)
	}
}
