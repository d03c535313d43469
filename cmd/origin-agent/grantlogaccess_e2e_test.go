package main

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

// TestGrantLogAccessSurvivesLogrotate: the real php8.2-fpm writes its
// error log root:root 0600 in a root 0700 directory (RHEL's layout; the
// file is Debian's). grant-log-access lets the service user (nobody here)
// read it and nobody else; a real `logrotate -f` with Debian's php8.2-fpm
// stanza (paths adapted, the reopen as its postrotate does it: USR1 to the
// master) makes php-fpm recreate the file root 0600 without the entry; the
// grant, run again as origin-agent-logaccess.service runs it, opens the new
// file to that user, and again to nobody else.
func TestGrantLogAccessSurvivesLogrotate(t *testing.T) {
	testenv.Require(t, testenv.Root(), testenv.Command("php-fpm8.2", "php8.2-fpm"),
		testenv.Command("logrotate", "logrotate"), testenv.Command("getfacl", "acl"), testenv.Go())
	const svcUID, svcGID = 65534, 65534 // nobody: the "service user"
	stranger := &syscall.Credential{Uid: 65533, Gid: 65533}
	service := &syscall.Credential{Uid: svcUID, Gid: svcGID}

	bin := buildAgent(t)
	dir := worldDir(t, "logaccess")
	logDir := filepath.Join(dir, "log", "php-fpm")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(logDir), 0o755); err != nil { // /var/log
		t.Fatal(err)
	}
	if err := os.Chmod(logDir, 0o700); err != nil { // /var/log/php-fpm on RHEL
		t.Fatal(err)
	}
	logPath := filepath.Join(logDir, "php8.2-fpm.log")
	pidFile := filepath.Join(dir, "php8.2-fpm.pid")
	fpmConf := writeFile(t, dir, "php-fpm.conf", fmt.Sprintf(`[global]
pid = %s
error_log = %s
daemonize = no

[www]
user = nobody
group = nogroup
listen = %s
pm = static
pm.max_children = 1
`, pidFile, logPath, filepath.Join(dir, "php8.2-fpm.sock")))
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf("[sources]\nphp_fpm_conf = %q\n", fpmConf))

	fpm := exec.Command("php-fpm8.2", "-F", "-y", fpmConf)
	startProc(t, "php-fpm", fpm)
	if !eventually(10*time.Second, func() bool { return fileHas(logPath, "ready to handle connections") }) {
		t.Fatalf("php-fpm did not write %s", logPath)
	}
	if canRead(service, logPath) {
		t.Fatalf("before any grant the service user reads %s: the test shows nothing", logPath)
	}

	grant := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"grant-log-access", "--user", "nobody", "--config", cfg}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("grant-log-access: %v\n%s", err, out)
		}
		return string(out)
	}
	exact := func(p, want string) {
		t.Helper()
		out, err := exec.Command("getfacl", "-n", "--omit-header", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)) + "\n"; got != want {
			t.Errorf("getfacl %s:\n%swant:\n%s", p, got, want)
		}
	}
	fileACL := "user::rw-\nuser:65534:r--\ngroup::---\nmask::r--\nother::---\n"
	dirACL := "user::rwx\nuser:65534:--x\ngroup::---\nmask::--x\nother::---\n"

	out := grant()
	t.Logf("first grant:\n%s", out)
	if want := "granted user:nobody:--x " + logDir + "\ngranted user:nobody:r-- " + logPath + "\n"; !strings.HasSuffix(out, want) || strings.Count(out, "granted") != 2 {
		t.Errorf("first grant output:\n%s", out)
	}
	if !canRead(service, logPath) {
		t.Fatalf("after the grant the service user cannot read %s", logPath)
	}
	if canRead(stranger, logPath) {
		t.Errorf("the grant opened %s to another user", logPath)
	}
	exact(logPath, fileACL)
	exact(logDir, dirACL)
	if out := grant(); strings.Contains(out, "granted") {
		t.Errorf("a second grant changed something:\n%s", out)
	}

	// The path unit watches the log; the generator names it.
	gen := t.TempDir()
	grant("--systemd-generator", gen)
	if data, err := os.ReadFile(filepath.Join(gen, "origin-agent-logaccess.path.d", "50-php-fpm-logs.conf")); err != nil ||
		!strings.Contains(string(data), "PathChanged="+logPath+"\n") {
		t.Errorf("generator drop-in: %q, %v", data, err)
	}

	// Debian's /etc/logrotate.d/php8.2-fpm, paths adapted; its postrotate
	// (php8.2-fpm-reopenlogs) sends USR1 to the master's pid file.
	stanza := writeFile(t, dir, "logrotate.conf", fmt.Sprintf(`%s {
	rotate 12
	weekly
	missingok
	notifempty
	compress
	delaycompress
	postrotate
		[ -r %s ] && kill -USR1 $(cat %s) > /dev/null
	endscript
}
`, logPath, pidFile, pidFile))
	if err := os.Chmod(stanza, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("logrotate", "-f", "-s", filepath.Join(dir, "logrotate.state"), stanza).CombinedOutput(); err != nil {
		t.Fatalf("logrotate -f: %v\n%s", err, out)
	}
	if _, err := os.Stat(logPath + ".1"); err != nil {
		t.Fatalf("logrotate did not rotate: %v", err)
	}
	if !eventually(10*time.Second, func() bool { return fileHas(logPath, "error log file re-opened") }) {
		t.Fatalf("php-fpm did not reopen %s after USR1", logPath)
	}
	if canRead(service, logPath) {
		t.Fatalf("php-fpm's recreated log is readable without a new grant (%s): the test shows nothing", describe(logPath))
	}
	t.Logf("recreated by php-fpm: %s", describe(logPath))

	// As origin-agent-logaccess.service runs it when the path unit fires.
	out = grant("--wait", "5s", "--quiet")
	t.Logf("grant after rotation:\n%s", out)
	if strings.TrimSpace(out) != "granted user:nobody:r-- "+logPath {
		t.Errorf("grant after rotation printed:\n%s", out)
	}
	if !canRead(service, logPath) {
		t.Errorf("after the rotation and the grant the service user cannot read the new %s", logPath)
	}
	if canRead(stranger, logPath) {
		t.Errorf("the new file is open to another user")
	}
	exact(logPath, fileACL)
	exact(logDir, dirACL)
	if !canRead(service, logPath+".1") {
		t.Error("the rotated file lost the entry it had")
	}

	// The race the path unit leaves: it fires when logrotate moves the log
	// away, and php-fpm reopens only after the grant gave up waiting (here:
	// the master stopped until then). The grant creates the file as
	// php-fpm would, with the entry; php-fpm, resumed, reopens and appends
	// to it, and the service reads php-fpm's lines in it.
	pid := fpm.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	if out, err := exec.Command("logrotate", "-f", "-s", filepath.Join(dir, "logrotate.state"), stanza).CombinedOutput(); err != nil {
		t.Fatalf("second logrotate -f: %v\n%s", err, out)
	}
	out = grant("--wait", "200ms", "--quiet")
	t.Logf("grant while php-fpm has not reopened:\n%s", out)
	if !strings.Contains(out, "created "+logPath) {
		t.Errorf("the grant did not create the missing log:\n%s", out)
	}
	exact(logPath, fileACL)
	if got := describe(logPath); got != "root:root 640" { // 0600 plus the mask in the group bits
		t.Errorf("created log is %s", got)
	}
	resumed = true
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return fileHas(logPath, "error log file re-opened") }) {
		t.Fatalf("php-fpm did not reopen into the created %s", logPath)
	}
	cat := exec.Command("/bin/cat", logPath)
	cat.SysProcAttr = &syscall.SysProcAttr{Credential: service}
	if b, err := cat.Output(); err != nil || !strings.Contains(string(b), "error log file re-opened") {
		t.Errorf("the service user does not read php-fpm's lines in the created file: %q, %v", b, err)
	}
	exact(logPath, fileACL)
}

func fileHas(p, s string) bool {
	b, err := os.ReadFile(p)
	return err == nil && strings.Contains(string(b), s)
}

// canRead opens p for reading as cred.
func canRead(cred *syscall.Credential, p string) bool {
	cmd := exec.Command("/bin/sh", "-c", `exec <"$1"`, "sh", p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return cmd.Run() == nil
}

func describe(p string) string {
	out, _ := exec.Command("stat", "-c", "%U:%G %a", p).Output()
	return strings.TrimSpace(string(out))
}

// TestPHPFPMLogsSkipsStreams: a php-fpm logging to its stderr (the
// official container images: error_log = /proc/self/fd/2) has no file to
// grant; globs in [sources] php_fpm expand to their matches.
func TestPHPFPMLogsSkipsStreams(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a-fpm.log", "")
	b := writeFile(t, dir, "b-fpm.log", "")
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf("[sources]\nphp_fpm_conf = \"off\"\nphp_fpm = [\"/proc/self/fd/2\", \"/dev/stderr\", %q]\n",
		filepath.Join(dir, "*-fpm.log")))
	out := new(strings.Builder)
	if code := runGrantLogAccess(t.Context(), []string{"--config", cfg, "--systemd-generator", dir}, out, out); code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "origin-agent-logaccess.path.d", "50-php-fpm-logs.conf"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	if !strings.Contains(got, "PathChanged="+a+"\nPathChanged="+b+"\n") || strings.Contains(got, "/proc/") || strings.Contains(got, "/dev/") {
		t.Errorf("drop-in:\n%s", got)
	}
}
