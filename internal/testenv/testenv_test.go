package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records Require's verdict; Skipf and Fatalf end the goroutine as
// the real ones do.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func require(t *testing.T, needs ...Need) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Require(f, needs...)
	}()
	<-done
	return f
}

func TestRequire(t *testing.T) {
	met := Need{OK: true, What: "met", Hint: "nothing"}
	a := Need{What: "a", Pkg: "pa"}
	b := Need{What: "b", Pkg: "pb"}
	a2 := Need{What: "a2", Pkg: "pa"}
	c := Need{What: "c", Hint: "run as root"}
	c2 := Need{What: "c2", Hint: "run as root"}

	t.Setenv("ORIGIN_AGENT_E2E", "")
	if f := require(t, met, met); f.skipped != "" || f.failed != "" {
		t.Errorf("all met: skipped %q, failed %q", f.skipped, f.failed)
	}
	f := require(t, a, met, b, c, a2, c2)
	want := "needs a, b, c, a2, c2 (run as root; apt-get install pa pb)"
	if f.failed != "" || !strings.HasPrefix(f.skipped, want) {
		t.Errorf("without ORIGIN_AGENT_E2E: skipped %q, failed %q; want a skip %q", f.skipped, f.failed, want)
	}

	t.Setenv("ORIGIN_AGENT_E2E", "1")
	if f := require(t, met); f.skipped != "" || f.failed != "" {
		t.Errorf("all met under ORIGIN_AGENT_E2E=1: skipped %q, failed %q", f.skipped, f.failed)
	}
	f = require(t, a, met, b, c, a2, c2)
	if f.skipped != "" || !strings.Contains(f.failed, want) {
		t.Errorf("under ORIGIN_AGENT_E2E=1: skipped %q, failed %q; want a failure %q", f.skipped, f.failed, want)
	}

	// A kernel setting CI cannot install skips even there, unless
	// something installable is missing too.
	psi := Need{What: "/proc/pressure/memory", Hint: "boot with psi=1", Machine: true}
	if f := require(t, met, psi); f.failed != "" || !strings.Contains(f.skipped, "/proc/pressure/memory") {
		t.Errorf("machine need under ORIGIN_AGENT_E2E=1: skipped %q, failed %q; want a skip", f.skipped, f.failed)
	}
	if f := require(t, psi, a); f.skipped != "" || !strings.Contains(f.failed, "/proc/pressure/memory, a") {
		t.Errorf("machine and package needs under ORIGIN_AGENT_E2E=1: skipped %q, failed %q; want a failure", f.skipped, f.failed)
	}
}

func TestNeeds(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "x86_64-linux-gnu", "mod.so")
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		need Need
		ok   bool
	}{
		{"root", Root(), os.Geteuid() == 0},
		{"command on PATH", Command("sh", "dash"), true},
		{"command by path", Command(exe, "none"), true},
		{"missing command", Command("origin-agent-no-such-command", "none"), false},
		{"go", Go(), true}, // go test puts its GOROOT/bin on PATH
		{"file", File(lib, "none"), true},
		{"file glob", File(filepath.Join(dir, "*", "mod.so"), "none"), true},
		{"missing file", File(filepath.Join(dir, "*", "other.so"), "none"), false},
		{"kernel", Kernel("/proc/self/status", "none"), true},
		{"missing kernel file", Kernel(filepath.Join(dir, "pressure"), "none"), false},
		{"sysctl", Sysctl("kernel.ostype", "Linux"), true},
		{"sysctl other value", Sysctl("kernel.ostype", "Plan 9"), false},
		{"missing sysctl", Sysctl("kernel.origin_agent_none", "1"), false},
	} {
		if c.need.OK != c.ok || c.need.What == "" || (c.need.Hint == "" && c.need.Pkg == "") {
			t.Errorf("%s: %+v, want OK=%v with what and a package or hint", c.name, c.need, c.ok)
		}
	}
	if n := Command("nginx", "nginx"); n.What != "nginx" || n.Pkg != "nginx" {
		t.Errorf("Command: %+v", n)
	}
	if n := Sysctl("kernel.dmesg_restrict", "1"); n.What != "kernel.dmesg_restrict=1" || n.Hint != "sysctl -w kernel.dmesg_restrict=1" {
		t.Errorf("Sysctl: %+v", n)
	}
}
