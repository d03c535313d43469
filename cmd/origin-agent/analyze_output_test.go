package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAnalyzeOutputFile(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	code, stdout, stderr := runCLI("analyze", "--format", "html", "-o", html, "../../examples/nginx-oom-kill")
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<!DOCTYPE html>") || strings.Count(string(b), `data-cause="oom_kill"`) != 1 {
		t.Errorf("report.html is not the oom_kill report:\n%.300s", b)
	}
	// Client addresses and URLs: readable by the user alone.
	if st, _ := os.Stat(html); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}

	// -o applies to every format; an existing file is replaced and keeps its mode.
	js := filepath.Join(dir, "report.json")
	if err := os.WriteFile(js, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(js, 0o640); err != nil { // past the umask
		t.Fatal(err)
	}
	if code, _, stderr := runCLI("analyze", "--format", "json", "-o", js, "../../examples/nginx-oom-kill"); code != exitOK {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema    string `json:"schema"`
		Incidents []struct {
			Cause string `json:"cause"`
		} `json:"incidents"`
	}
	b, _ = os.ReadFile(js)
	if err := json.Unmarshal(b, &doc); err != nil || doc.Schema != "origin-agent/analysis/v1" || len(doc.Incidents) != 1 || doc.Incidents[0].Cause != "oom_kill" {
		t.Errorf("report.json: %v %+v", err, doc)
	}
	if st, _ := os.Stat(js); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old 0640", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left: %v", entries)
	}

	// Without -o, HTML goes to stdout.
	code, stdout, _ = runCLI("analyze", "--format", "html", "../../examples/nginx-oom-kill")
	if code != exitOK || !strings.HasPrefix(stdout, "<!DOCTYPE html>") {
		t.Errorf("stdout: exit %d, %.80q", code, stdout)
	}
}

func TestAnalyzeOutputFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		out string
		msg string
	}{
		{filepath.Join(dir, "missing", "report.html"), "missing"},
		{dir, "not a regular file"},
	}
	for _, c := range cases {
		code, stdout, stderr := runCLI("analyze", "--format", "html", "-o", c.out, "../../examples/nginx-oom-kill")
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, c.msg) {
			t.Errorf("-o %s: exit %d, stdout %q, stderr %q", c.out, code, stdout, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
