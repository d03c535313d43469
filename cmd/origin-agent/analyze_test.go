package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

const (
	ok502  = `203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET /x.php HTTP/1.1" 502 157 "-" "curl/8.0"`
	ok200  = `203.0.113.7 - - [20/Nov/2026:10:01:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`
	err111 = `2026/11/20 10:01:02 [error] 12#12: *5 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: _, request: "GET /x.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "x"`
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := write(t, dir, "blob.bin", "\x00\x01\x02\x03\xff\xfe\xfd binary \x00\x00\n\x7f\x80\x81\n")
	os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling.log"))
	empty := filepath.Join(dir, "emptydir")
	os.Mkdir(empty, 0o755)
	cases := []struct {
		args []string
		code int
		msg  string // in stderr
	}{
		{[]string{"analyze"}, exitUsage, "Usage"},
		{[]string{"analyze", filepath.Join(dir, "missing.log")}, exitUsage, "missing.log"},
		{[]string{"analyze", filepath.Join(dir, "dangling.log")}, exitUsage, "dangling.log"},
		{[]string{"analyze", "bogus=" + garbage}, exitUsage, `unknown log type "bogus"`},
		{[]string{"analyze", garbage}, exitUsage, "blob.bin: cannot tell what kind of log"},
		{[]string{"analyze", "nginx_access=" + garbage}, exitUsage, "blob.bin: no line"},
		{[]string{"analyze", "--format", "xml", garbage}, exitUsage, "--format"},
		{[]string{"analyze", "--since", "yesterday", garbage}, exitUsage, "--since"},
		{[]string{"analyze", "--nginx-conf", filepath.Join(dir, "nope.conf"), empty}, exitUsage, "nope.conf"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
	// An empty directory is not an error: nothing to analyze.
	if code, out, stderr := runCLI("analyze", empty); code != exitOK || !strings.Contains(out, "No incidents") {
		t.Errorf("empty dir: exit %d, out %q, err %q", code, out, stderr)
	}
	// A fresh host: nginx's logs exist but are empty. They are listed as
	// empty, not as "not a log"; a file that is no log stays that.
	fresh := filepath.Join(dir, "fresh")
	os.MkdirAll(filepath.Join(fresh, "nginx"), 0o755)
	os.WriteFile(filepath.Join(fresh, "nginx", "access.log"), nil, 0o644)
	os.WriteFile(filepath.Join(fresh, "app.log"), []byte("remember the milk\nand the bread\n"), 0o644)
	code, out, stderr := runCLI("analyze", fresh)
	if code != exitOK {
		t.Fatalf("fresh host: exit %d, err %q", code, stderr)
	}
	for _, want := range []string{
		"(empty)                " + filepath.Join(fresh, "nginx", "access.log"),
		"(not a log)            " + filepath.Join(fresh, "app.log"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fresh host: report lacks %q:\n%s", want, out)
		}
	}
}

// TestAnalyzeBadLines: long, truncated, invalid-UTF-8 and garbage lines are
// counted and shown with their line numbers; the good lines still make the
// incident.
func TestAnalyzeBadLines(t *testing.T) {
	dir := t.TempDir()
	lines := []string{ok200, strings.Repeat("A", 2<<20), ok502[:40], "\xff\xfe\xfd not utf8 \xc3\x28", ok502}
	errs := []string{err111}
	for i := 0; i < 5; i++ {
		ts := "10:01:0" + string(rune('3'+i))
		lines = append(lines, strings.Replace(ok502, "10:01:02", ts, 1))
		errs = append(errs, strings.Replace(err111, "10:01:02", ts, 1))
	}
	write(t, dir, "access.log", strings.Join(lines, "\n")+"\n")
	write(t, dir, "error.log", strings.Join(errs, "\n")+"\n")
	code, out, stderr := runCLI("analyze", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"upstream_down", "skipped line 2 (line longer than 1 MiB)", "skipped line 3", "skipped line 4", "10 lines, 7 parsed, 3 skipped", "6 requests got 502"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestAnalyzeRotatedAndGzip: a log split over access.log.2.gz, access.log.1
// and access.log is one timeline.
func TestAnalyzeRotatedAndGzip(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(ok200 + "\n" + ok502 + "\n"))
	zw.Close()
	write(t, dir, "access.log.2.gz", gz.String())
	write(t, dir, "access.log.1", strings.Replace(ok502, "10:01:02", "10:01:20", 1)+"\n")
	write(t, dir, "access.log", strings.Replace(ok502, "10:01:02", "10:01:40", 1)+"\n")
	write(t, dir, "error.log", err111+"\n")
	doc := analyzeJSON(t, dir)
	if len(doc.Incidents) != 1 || doc.Incidents[0].Statuses["502"] != 3 {
		t.Fatalf("want one incident of 3×502 across the rotated files, got %+v", doc.Incidents)
	}
	if len(doc.Files) != 4 {
		t.Errorf("files: %+v", doc.Files)
	}
}

func TestAnalyzeSinceUntilAndGap(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for _, ts := range []string{"10:01:02", "10:01:03", "10:05:00", "10:05:01"} {
		lines = append(lines, strings.Replace(ok502, "10:01:02", ts, 1))
	}
	p := write(t, dir, "access.log", strings.Join(lines, "\n")+"\n")
	if doc := analyzeJSON(t, p); len(doc.Incidents) != 2 {
		t.Errorf("default gap: %d incidents, want 2", len(doc.Incidents))
	}
	if doc := analyzeJSON(t, "--gap", "10m", p); len(doc.Incidents) != 1 {
		t.Errorf("--gap 10m: %d incidents, want 1", len(doc.Incidents))
	}
	if doc := analyzeJSON(t, "--since", "2026-11-20T10:04:00Z", p); len(doc.Incidents) != 1 || doc.Incidents[0].Statuses["502"] != 2 {
		t.Errorf("--since: %+v", doc.Incidents)
	}
	if doc := analyzeJSON(t, "--until", "2026-11-20 10:02", p); len(doc.Incidents) != 1 || doc.Incidents[0].Statuses["502"] != 2 {
		t.Errorf("--until: %+v", doc.Incidents)
	}
}

// TestAnalyzeUnreadable runs the real binary as an unprivileged user on a
// file only root may read: exit 2 and a message naming the file.
func TestAnalyzeUnreadable(t *testing.T) {
	testenv.Require(t, testenv.Root(), testenv.Go()) // root, to switch to an unprivileged user
	bin := filepath.Join(t.TempDir(), "origin-agent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(bin), dir, filepath.Dir(dir)} {
		os.Chmod(d, 0o755) // t.TempDir's parent is private to root
	}
	p := write(t, dir, "access.log", ok502+"\n")
	os.Chmod(p, 0o600)
	cmd := exec.Command(bin, "analyze", p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	ee, isExit := err.(*exec.ExitError)
	if !isExit || ee.ExitCode() != exitUsage || !strings.Contains(string(out), "access.log") || !strings.Contains(string(out), "permission denied") {
		t.Fatalf("err %v, output %q", err, out)
	}
}
