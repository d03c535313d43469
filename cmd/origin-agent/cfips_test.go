package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/audit"
	"github.com/origin-agent/origin-agent/firewall"
)

func TestCFIPsUpdate(t *testing.T) {
	v4, _ := os.ReadFile("../../firewall/ips-v4.txt")
	v6, _ := os.ReadFile("../../firewall/ips-v6.txt")
	body := map[string]string{"/ips-v4": string(v4) + "131.0.76.0/22\n", "/ips-v6": string(v6)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body[r.URL.Path]))
	}))
	defer srv.Close()
	t.Setenv(envCFURLs, srv.URL+"/ips-v4,"+srv.URL+"/ips-v6")
	dir := t.TempDir()

	update := func() (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"cf-ips", "update", "--state-dir", dir}, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := update()
	if code != 0 || !strings.Contains(out, "+ 131.0.76.0/22\n") || !strings.Contains(out, "16 IPv4 and 7 IPv6 ranges") {
		t.Fatalf("good answer: exit %d\n%s%s", code, out, errs)
	}
	saved, err := os.ReadFile(filepath.Join(dir, firewall.RangesFile))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct{ name, v4, why string }{
		{"html", "<html><body>Just a moment...</body></html>", "ips-v4"},
		{"empty", "", "ips-v4"},
		{"private range", strings.Replace(string(v4), "173.245.48.0/20", "10.0.0.0/8", 1), "ips-v4"},
	}
	for _, tt := range tests {
		body["/ips-v4"] = tt.v4
		code, out, errs := update()
		if code != 2 || !strings.Contains(errs, "keeping the current list") || !strings.Contains(errs, tt.why) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tt.name, code, out, errs)
		}
		if now, _ := os.ReadFile(filepath.Join(dir, firewall.RangesFile)); !bytes.Equal(now, saved) {
			t.Errorf("%s: the saved list changed", tt.name)
		}
	}
	var out2 bytes.Buffer
	if code := run(context.Background(), []string{"cf-ips", "show", "--state-dir", dir}, &out2, &out2); code != 0 || !strings.Contains(out2.String(), "131.0.76.0/22") {
		t.Errorf("show: %d %s", code, out2.String())
	}
}

func TestAuditUsage(t *testing.T) {
	tests := [][]string{
		{"audit", "--format", "xml"},
		{"audit", "--ports", "80,http"},
		{"audit", "--restrict"},
		{"audit", "--apply", "--revert"},
		{"audit", "extra"},
		{"cf-ips"},
		{"cf-ips", "fetch"},
	}
	for _, args := range tests {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// TestAuditExit: audit's outcomes are the shared exit statuses, with the
// numbers README.md and DESIGN.md promise: 0 all pass, 1 something
// failed, 2 could not run.
func TestAuditExit(t *testing.T) {
	for o, want := range map[audit.Outcome]int{audit.Passed: 0, audit.Failed: 1, audit.Incomplete: 2} {
		if got := auditExit(o); got != want {
			t.Errorf("outcome %d: exit %d, want %d", o, got, want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := parsePorts("443, 80,443")
	if err != nil || len(got) != 2 || got[0] != 443 || got[1] != 80 {
		t.Errorf("%v %v", got, err)
	}
	if _, err := parsePorts("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"); err == nil {
		t.Error("16 ports accepted")
	}
}
