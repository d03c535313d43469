package receivers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// RsyslogTemplate writes each received message with rsyslog's own RFC 5424
// properties: msgid|structured-data|app-name|hostname|msg.
const RsyslogTemplate = `template(name="t" type="string" string="%msgid%|%structured-data%|%app-name%|%hostname%|%msg%\n")`

// rsyslogd and its TLS driver, from Debian's rsyslog and rsyslog-gnutls.
// rsyslogd loads its modules from the multiarch library directory
// (x86_64-linux-gnu, aarch64-linux-gnu, ...): any architecture's will do.
const (
	rsyslogd    = "/usr/sbin/rsyslogd"
	rsyslogGTLS = "/usr/lib/*/rsyslog/lmnsd_gtls.so"
)

// RequireRsyslog skips t without rsyslogd (and, with tls, without its GnuTLS
// driver), unless ORIGIN_AGENT_E2E=1.
func RequireRsyslog(t testing.TB, tls bool) {
	t.Helper()
	needs := []testenv.Need{testenv.File(rsyslogd, "rsyslog")}
	if tls {
		needs = append(needs, testenv.File(rsyslogGTLS, "rsyslog-gnutls"))
	}
	testenv.Require(t, needs...)
}

// Rsyslog is a real rsyslogd started by a test on loopback. Everything it
// receives is written to Out through RsyslogTemplate.
type Rsyslog struct {
	t       testing.TB
	conf    string
	pidfile string
	Out     string
	cmd     *exec.Cmd
}

// StartRsyslog writes a config with the given global() parameters and
// inputs (RainerScript lines whose inputs use ruleset "r") in dir and starts
// rsyslogd; it is stopped by its PID at cleanup.
func StartRsyslog(t testing.TB, dir, globals, inputs string) *Rsyslog {
	t.Helper()
	r := &Rsyslog{t: t, conf: filepath.Join(dir, "rsyslog.conf"), pidfile: filepath.Join(dir, "rsyslog.pid"), Out: filepath.Join(dir, "rsyslog-out.log")}
	conf := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="64k" %s)
%s
ruleset(name="r") { action(type="omfile" file=%q template="t" flushOnTXEnd="on" asyncWriting="off") }
%s
`, dir, globals, RsyslogTemplate, r.Out, inputs)
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// StartRsyslogTCP starts rsyslogd with one plain imtcp input on port.
func StartRsyslogTCP(t testing.TB, dir string, port int) *Rsyslog {
	t.Helper()
	return StartRsyslog(t, dir, "", fmt.Sprintf("module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"r\")", port))
}

// Start runs rsyslogd and returns once it wrote its pid file (its inputs
// are up by then).
func (r *Rsyslog) Start() {
	r.t.Helper()
	cmd := exec.Command(rsyslogd, "-n", "-f", r.conf, "-i", r.pidfile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start rsyslogd: %v", err)
	}
	r.cmd = cmd
	for range 500 {
		if b, err := os.ReadFile(r.pidfile); err == nil && strings.TrimSpace(string(b)) == fmt.Sprint(cmd.Process.Pid) {
			time.Sleep(100 * time.Millisecond)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("rsyslogd did not start (config %s)", r.conf)
}

// Stop terminates the rsyslogd this test started, by its PID.
func (r *Rsyslog) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
	os.Remove(r.pidfile)
}

// Lines returns what rsyslog wrote so far.
func (r *Rsyslog) Lines() []string {
	b, err := os.ReadFile(r.Out)
	if err != nil {
		return nil
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// WaitLines waits until rsyslog wrote at least n lines, or timeout.
func (r *Rsyslog) WaitLines(n int, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		ls := r.Lines()
		if len(ls) >= n || time.Now().After(deadline) {
			return ls
		}
		time.Sleep(20 * time.Millisecond)
	}
}
