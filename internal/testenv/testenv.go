// Package testenv says whether a test can run here: root, commands, files,
// modules. A test that needs what the machine lacks is skipped with the
// reason and what to install — except under ORIGIN_AGENT_E2E=1 (CI, after
// .ci/run installed everything), where the same lack is a failure, so that
// end-to-end tests never pass by skipping there.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// E2E reports whether end-to-end tests must run (ORIGIN_AGENT_E2E=1).
func E2E() bool { return os.Getenv("ORIGIN_AGENT_E2E") == "1" }

// Need is one requirement: OK says whether it is met, What names it, Pkg
// is the Debian package that meets it, or Hint says how to. Machine marks
// a setting of the machine's kernel that no package installs (PSI, a
// sysctl, IPv6 on loopback): its lack skips the test even under
// ORIGIN_AGENT_E2E=1, since .ci/run cannot provide it and CI may run on
// a stock kernel.
type Need struct {
	OK      bool
	What    string
	Pkg     string
	Hint    string
	Machine bool
}

// Root is the requirement to run as root.
func Root() Need {
	return Need{OK: os.Geteuid() == 0, What: "root", Hint: "run as root"}
}

// Command requires an executable on PATH (or at an absolute path).
func Command(name, pkg string) Need {
	var err error
	if filepath.IsAbs(name) {
		_, err = os.Stat(name)
	} else {
		_, err = exec.LookPath(name)
	}
	return Need{OK: err == nil, What: name, Pkg: pkg}
}

// File requires a file (a module, a library, a device). path may be a
// glob pattern, for the multiarch directories Debian installs libraries
// and modules into (/usr/lib/*/rsyslog): any match will do.
func File(path, pkg string) Need {
	return Need{OK: exists(path), What: path, Pkg: pkg}
}

// Go requires the go command, for tests that build the agent. go test puts
// its own GOROOT/bin first on PATH: only a test binary run by hand may
// lack it.
func Go() Need {
	_, err := exec.LookPath("go")
	return Need{OK: err == nil, What: "go", Hint: "put the go command on PATH"}
}

// Kernel requires a kernel feature that shows as a file under /proc or
// /sys (/proc/pressure/memory for PSI); hint says how to turn it on.
func Kernel(path, hint string) Need {
	return Need{OK: exists(path), What: path, Hint: hint, Machine: true}
}

// Sysctl requires a kernel parameter to hold a value
// (kernel.dmesg_restrict=1).
func Sysctl(name, want string) Need {
	b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/")))
	ok := err == nil && strings.TrimSpace(string(b)) == want
	return Need{OK: ok, What: name + "=" + want, Hint: "sysctl -w " + name + "=" + want, Machine: true}
}

// exists reports whether a path, or any match of a glob pattern, exists.
func exists(pattern string) bool {
	m, _ := filepath.Glob(pattern)
	for _, p := range m {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// Require skips t unless every need is met; under ORIGIN_AGENT_E2E=1 it
// fails instead, unless only Machine needs are missing. The message lists
// all that is missing at once, and one apt-get command for the packages.
func Require(t testing.TB, needs ...Need) {
	t.Helper()
	var missing, hints, pkgs []string
	installable := false
	for _, n := range needs {
		if n.OK {
			continue
		}
		installable = installable || !n.Machine
		missing = append(missing, n.What)
		if n.Hint != "" && !contains(hints, n.Hint) {
			hints = append(hints, n.Hint)
		}
		if n.Pkg != "" && !contains(pkgs, n.Pkg) {
			pkgs = append(pkgs, n.Pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	if len(pkgs) > 0 {
		hints = append(hints, "apt-get install "+strings.Join(pkgs, " "))
	}
	msg := "needs " + strings.Join(missing, ", ")
	if len(hints) > 0 {
		msg += " (" + strings.Join(hints, "; ") + ")"
	}
	switch {
	case E2E() && installable:
		t.Fatalf("ORIGIN_AGENT_E2E=1 but this test %s", msg)
	case E2E():
		t.Skipf("%s: a setting of this machine's kernel, which CI cannot install", msg)
	}
	t.Skipf("%s; set ORIGIN_AGENT_E2E=1 to make this a failure", msg)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
