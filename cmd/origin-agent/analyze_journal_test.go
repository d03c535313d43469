package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// journalRemote finds systemd-journal-remote, which writes real journal
// files from the journal export format.
func journalRemote(t *testing.T) string {
	t.Helper()
	bin := "/lib/systemd/systemd-journal-remote" // Debian's, also under /usr/lib with merged /usr
	if _, err := os.Stat(bin); err != nil {
		bin = "/usr/lib/systemd/systemd-journal-remote"
	}
	testenv.Require(t, testenv.Command("journalctl", "systemd"), testenv.File(bin, "systemd-journal-remote"))
	return bin
}

// kernLogToJournal writes the lines of a kernel log (`dmesg --time-format
// iso`, or rsyslog's "STAMP host kernel: message") as kernel
// entries of a journal in a new directory, with the real
// systemd-journal-remote, and returns the directory. One entry of another
// transport is added: --journal must leave it out.
func kernLogToJournal(t *testing.T, remote, kernLog string) string {
	t.Helper()
	f, err := os.Open(kernLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var export bytes.Buffer
	entry := func(ts time.Time, transport, ident, msg string) {
		fmt.Fprintf(&export, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=6d1f2ce4d6a34e43b9b0c1a3b0e5c8f1\n_TRANSPORT=%s\nSYSLOG_IDENTIFIER=%s\n_HOSTNAME=web1\nPRIORITY=3\nMESSAGE=%s\n\n",
			ts.UnixMicro(), ts.UnixMicro()%1e9, transport, ident, msg)
	}
	sc := bufio.NewScanner(f)
	var first time.Time
	for sc.Scan() {
		stamp, msg, ok := strings.Cut(sc.Text(), " ")
		ts, err := time.Parse(time.RFC3339Nano, strings.Replace(stamp, ",", ".", 1)) // dmesg writes a comma
		if _, m, isSyslog := strings.Cut(msg, " kernel: "); isSyslog {
			msg = m
		}
		if !ok || err != nil {
			t.Fatalf("%s: not a kernel log line: %q", kernLog, sc.Text())
		}
		if first.IsZero() {
			first = ts
			entry(ts.Add(-time.Second), "syslog", "cron", "Out of memory: Killed process 999 (not-the-kernel)")
		}
		entry(ts, "kernel", "kernel", msg)
	}
	dir := filepath.Join(t.TempDir(), "journal")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(t.TempDir(), "export")
	if err := os.WriteFile(exp, export.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(remote, "-o", filepath.Join(dir, "remote.journal"), exp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
	return dir
}

// TestAnalyzeJournal: on a host without kern.log the OOM kill behind an
// incident is only in the systemd journal. --journal-dir reads a real
// journal (written by systemd-journal-remote from the example's kern.log)
// through the real journalctl, and the incident is named oom_kill with
// the journal as evidence; without it the cause is a guess and analyze
// suggests --journal.
func TestAnalyzeJournal(t *testing.T) {
	remote := journalRemote(t)
	ex := "../../examples/nginx-oom-kill"
	dir := kernLogToJournal(t, remote, filepath.Join(ex, "kern.log"))
	logs := []string{filepath.Join(ex, "access.log"), filepath.Join(ex, "error.log"), filepath.Join(ex, "php-fpm.log")}

	code, out, stderr := runCLI(append([]string{"analyze"}, logs...)...)
	if code != exitOK || strings.Contains(out, "cause:    worker killed by the kernel OOM killer (confidence 95%)") {
		t.Fatalf("without the kernel's messages: exit %d, report:\n%s", code, out)
	}
	if !strings.Contains(stderr, "--journal reads the kernel's messages") {
		t.Errorf("no --journal hint without a kernel log: %q", stderr)
	}

	label := "journalctl --directory=" + dir + " _TRANSPORT=kernel"
	code, out, stderr = runCLI(append([]string{"analyze", "--journal-dir", dir}, logs...)...)
	if code != exitOK {
		t.Fatalf("--journal-dir: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"Incident 1 of 1: oom_kill",
		label + ":", // evidence lines cite the journal, not a temporary file
		"Killed process",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--journal-dir: report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not-the-kernel") {
		t.Errorf("--journal-dir read a message that did not come from the kernel:\n%s", out)
	}
	if strings.Contains(stderr, "--journal reads") {
		t.Errorf("hint printed although the journal was read: %q", stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "origin-agent-journal-*")); len(left) > 0 {
		t.Errorf("the journal export was left behind: %v", left)
	}

	// --since/--until reach journalctl: a span that ends before the OOM
	// kill leaves the journal with nothing to say.
	code, _, stderr = runCLI(append([]string{"analyze", "--journal-dir", dir, "--until", "2026-11-22T04:00:00Z"}, logs...)...)
	if code != exitOK || !strings.Contains(stderr, label+": no kernel messages") {
		t.Errorf("--until before the incident: exit %d, stderr %q", code, stderr)
	}

	// A journal directory that does not exist: journalctl's own reason, exit 2.
	code, _, stderr = runCLI(append([]string{"analyze", "--journal-dir", filepath.Join(dir, "nope")}, logs...)...)
	if code != exitUsage || !strings.Contains(stderr, "nope") {
		t.Errorf("missing journal dir: exit %d, stderr %q", code, stderr)
	}
}

// TestAnalyzeJournalMissing: without journalctl, --journal is a usage
// error that says what is missing, not a silent analysis without it.
func TestAnalyzeJournalMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := runCLI("analyze", "--journal", "../../examples/nginx-oom-kill/access.log")
	if code != exitUsage || !strings.Contains(stderr, "journalctl not found") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
