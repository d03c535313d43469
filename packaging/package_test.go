package packaging_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/origin-agent/origin-agent/agent/access"
	"github.com/origin-agent/origin-agent/internal/testenv"
)

// The end-to-end package test builds the real .deb and .rpm with
// `make package` and installs them on this machine. It needs root, dpkg,
// rpm, lintian and systemd-analyze; without them it skips, except under
// ORIGIN_AGENT_E2E=1 (CI), where it must run.

const (
	name       = "origin-agent"
	oldVersion = "0.0.0~e2e1" // sorts before any real version, for the upgrade
)

func need(t *testing.T, root bool, tools ...string) {
	t.Helper()
	var needs []testenv.Need
	if root {
		needs = append(needs, testenv.Root())
	}
	pkgs := map[string]string{"promtool": "prometheus", "amtool": "prometheus-alertmanager", "systemd-analyze": "systemd", "dpkg-deb": "dpkg"}
	for _, tool := range tools {
		pkg := pkgs[tool]
		if pkg == "" {
			pkg = tool
		}
		needs = append(needs, testenv.Command(tool, pkg))
	}
	testenv.Require(t, needs...)
}

// sh runs a command and fails the test, with its output, if it fails.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestUnitExposure scores the units as shipped: the bar is 2.5 (the
// log-access oneshot runs as root, with two capabilities).
func TestUnitExposure(t *testing.T) {
	need(t, false, "systemd-analyze")
	for _, unit := range []string{"origin-agent.service", "origin-agent-logaccess.service"} {
		out := sh(t, "systemd-analyze", "security", "--offline=true", "--no-pager", "./"+unit)
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(unit) + `: ([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no exposure level in:\n%s", out)
		}
		level, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exposure %.1f", unit, level)
		if level > 2.5 {
			t.Errorf("%s: exposure %.1f > 2.5:\n%s", unit, level, out)
		}
	}
}

// TestUnitGroups: discover computes what the service can read with the
// unit's SupplementaryGroups=; they must be the ones the unit grants.
func TestUnitGroups(t *testing.T) {
	data, err := os.ReadFile("origin-agent.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^SupplementaryGroups=(.*)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("origin-agent.service has no SupplementaryGroups=")
	}
	if got, want := string(m[1]), strings.Join(access.UnitGroups, " "); got != want {
		t.Errorf("SupplementaryGroups=%s, access.UnitGroups %s", got, want)
	}
	// The main unit pulls in the path unit health findings name, and runs
	// the grant as root before it starts.
	for _, want := range []string{"Wants=origin-agent-logaccess.path", "ExecStartPre=-+/usr/bin/origin-agent grant-log-access", "Also=origin-agent-logaccess.path"} {
		if !bytes.Contains(data, []byte(want+"\n")) && !bytes.Contains(data, []byte(want+" ")) {
			t.Errorf("origin-agent.service lacks %q", want)
		}
	}
}

type build struct {
	dir, version string
	sums         map[string]string // file name → sha256
}

func (b build) deb(arch string) string {
	return filepath.Join(b.dir, name+"_"+b.version+"_"+arch+".deb")
}
func (b build) rpm(arch string) string {
	return filepath.Join(b.dir, name+"-"+b.version+"."+arch+".rpm")
}

// makePackage runs `make package` into a directory of its own.
func makePackage(t *testing.T, vars ...string) build {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"-C", "..", "--no-print-directory", "package", "DIST=" + dir}, vars...)
	cmd := exec.Command("make", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	m := regexp.MustCompile(`(?m)^== origin-agent (\S+), SOURCE_DATE_EPOCH`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("make package did not name the version:\n%s", out)
	}
	b := build{dir: dir, version: string(m[1]), sums: map[string]string{}}
	for _, f := range []string{b.deb("amd64"), b.deb("arm64"), b.rpm("x86_64"), b.rpm("aarch64")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("make package did not build %s: %v\n%s", filepath.Base(f), err, out)
		}
		sum := sha256.Sum256(data)
		b.sums[filepath.Base(f)] = hex.EncodeToString(sum[:])
	}
	return b
}

func TestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and installs packages; not in -short")
	}
	need(t, true, "make", "git", "dpkg", "dpkg-deb", "rpm", "lintian", "systemd-analyze", "adduser")
	if err := exec.Command("dpkg", "-s", name).Run(); err == nil {
		t.Skip("origin-agent is installed on this machine; not touching it")
	}
	_, userErr := user.Lookup(name)
	if userErr == nil {
		t.Log("user origin-agent exists already; it will be left in place")
	}
	restoreLogs := keepPHPFPMLogs(t)
	t.Cleanup(func() {
		exec.Command("dpkg", "-P", name).Run()
		restoreLogs()
		if userErr != nil {
			exec.Command("userdel", name).Run()
			exec.Command("groupdel", name).Run()
		}
	})

	cur := makePackage(t)
	again := makePackage(t)
	for f, sum := range cur.sums {
		t.Logf("%s  %s", sum, f)
		if again.sums[f] != sum {
			t.Errorf("%s differs between two builds of one commit: %s, then %s", f, sum, again.sums[f])
		}
	}
	old := makePackage(t, "PKG_VERSION="+oldVersion)
	if old.version != oldVersion {
		t.Fatalf("PKG_VERSION=%s built %s", oldVersion, old.version)
	}

	t.Run("lintian", func(t *testing.T) { lintian(t, cur.deb("amd64")) })
	t.Run("rpm", func(t *testing.T) { inspectRPM(t, cur) })
	t.Run("deb", func(t *testing.T) { installDeb(t, old, cur) })
}

func lintian(t *testing.T, deb string) {
	// Overridden tags (packaging/lintian-overrides, each with its reason)
	// do not count; --show-overrides would make them fail, so it is off.
	out, err := exec.Command("lintian", "--fail-on", "error,warning", deb).CombinedOutput()
	t.Logf("lintian:\n%s", out)
	if err != nil {
		t.Errorf("lintian: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
			t.Errorf("lintian: %s", l)
		}
	}
}

// debArch and rpmArch name this machine's architecture, for installing.
func debArch() string { return runtime.GOARCH }
func rpmArch() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64"
	}
	return "x86_64"
}

func inspectRPM(t *testing.T, b build) {
	for _, arch := range []string{"x86_64", "aarch64"} {
		pkg := b.rpm(arch)
		if out := sh(t, "rpm", "-K", pkg); !strings.Contains(out, "digests OK") {
			t.Errorf("rpm -K %s: %s", filepath.Base(pkg), out)
		}
		if got := sh(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{ARCH}", pkg); got != name+" "+b.version+" "+arch {
			t.Errorf("rpm -qp %s: %q", filepath.Base(pkg), got)
		}
	}
	pkg := b.rpm(rpmArch())
	files := sh(t, "rpm", "-qpl", pkg)
	for _, f := range []string{
		"/usr/bin/origin-agent",
		"/usr/lib/systemd/system/origin-agent.service",
		"/usr/lib/systemd/system/origin-agent-logaccess.service",
		"/usr/lib/systemd/system/origin-agent-logaccess.path",
		"/usr/lib/systemd/system-generators/origin-agent-logaccess-generator",
		"/usr/lib/sysusers.d/origin-agent.conf",
		"/etc/origin-agent/config.toml",
		"/var/lib/origin-agent",
		"/usr/share/man/man1/origin-agent.1.gz",
		"/usr/share/bash-completion/completions/origin-agent",
		"/usr/share/zsh/site-functions/_origin-agent",
		"/usr/share/licenses/origin-agent/copyright",
	} {
		if !strings.Contains(files, f+"\n") {
			t.Errorf("rpm -qpl lacks %s:\n%s", f, files)
		}
	}
	// config.toml must be %config(noreplace), the state directory owned by
	// the service user.
	attrs := sh(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEUSERNAME}\n]", pkg)
	for _, want := range []string{"/etc/origin-agent/config.toml cn root\n", "/var/lib/origin-agent  origin-agent\n"} {
		if !strings.Contains(attrs, want) {
			t.Errorf("rpm file attributes lack %q:\n%s", want, attrs)
		}
	}
	scripts := sh(t, "rpm", "-qp", "--scripts", pkg)
	for _, want := range []string{
		"preinstall scriptlet", "useradd -r", "usermod -a -G adm origin-agent",
		"postinstall scriptlet", "systemctl --no-reload preset origin-agent.service origin-agent-logaccess.path",
		"/usr/bin/origin-agent grant-log-access", "runuser -u origin-agent -- origin-agent run",
		// the old package's %preun runs after the new %post on upgrade: it
		// may act only when $1 is 0
		"preuninstall scriptlet", `if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then` + "\n\tsystemctl --no-reload disable --now",
		"postuninstall scriptlet",
		"posttrans scriptlet", "systemctl try-restart origin-agent.service",
	} {
		if !strings.Contains(scripts, want) {
			t.Errorf("rpm --scripts lacks %q:\n%s", want, scripts)
		}
	}
	if reqs := sh(t, "rpm", "-qpR", pkg); !strings.Contains(reqs, "shadow-utils") {
		t.Errorf("rpm requires lacks shadow-utils:\n%s", reqs)
	}

	// The scratch root is empty: it has no /bin/sh for the scriptlets and no
	// rpm database providing shadow-utils, so --noscripts and --nodeps are
	// unavoidable. The scriptlets themselves are checked above.
	root := t.TempDir()
	sh(t, "rpm", "--root", root, "--initdb")
	sh(t, "rpm", "--root", root, "-i", "--nodeps", "--noscripts", pkg)
	if got := sh(t, "rpm", "--root", root, "-q", name); !strings.HasPrefix(got, name+"-"+b.version) {
		t.Errorf("rpm -q in the scratch root: %q", got)
	}
	for _, f := range []string{"usr/bin/origin-agent", "etc/origin-agent/config.toml", "usr/lib/systemd/system/origin-agent.service"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("after rpm -i --root: %v", err)
		}
	}
	sh(t, "rpm", "--root", root, "-e", "--nodeps", "--noscripts", name)
	if _, err := os.Stat(filepath.Join(root, "usr/bin/origin-agent")); !os.IsNotExist(err) {
		t.Errorf("after rpm -e --root: /usr/bin/origin-agent still there (%v)", err)
	}
}

const (
	conffile = "/etc/origin-agent/config.toml"
	stateDir = "/var/lib/origin-agent"
	unitDeb  = "/lib/systemd/system/origin-agent.service"
	wants    = "/etc/systemd/system/multi-user.target.wants/origin-agent.service"
	pathDeb  = "/lib/systemd/system/origin-agent-logaccess.path"
	grantDeb = "/lib/systemd/system/origin-agent-logaccess.service"
	genDeb   = "/lib/systemd/system-generators/origin-agent-logaccess-generator"
	pathWant = "/etc/systemd/system/paths.target.wants/origin-agent-logaccess.path"
)

func installDeb(t *testing.T, old, cur build) {
	// Install the old build, as a user would. Without a running systemd
	// (this machine) the postinst must say so and how to run the agent.
	out := sh(t, "dpkg", "-i", old.deb(debArch()))
	t.Logf("dpkg -i:\n%s", out)
	for _, want := range []string{"what the service (user origin-agent) can read here:", "readable by origin-agent:"} {
		if !strings.Contains(out, want) {
			t.Errorf("postinst output lacks %q", want)
		}
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		for _, want := range []string{"systemd is not running here", "runuser -u origin-agent -- origin-agent run"} {
			if !strings.Contains(out, want) {
				t.Errorf("postinst output lacks %q", want)
			}
		}
	}
	if got := sh(t, "origin-agent", "version"); !strings.Contains(got, oldVersion) {
		t.Errorf("origin-agent version after installing %s: %q", oldVersion, got)
	}
	if groups := sh(t, "id", "-nG", name); !strings.Contains(" "+groups, " adm") {
		t.Errorf("user origin-agent is not in adm: %s", groups)
	}
	if shell := strings.TrimSpace(sh(t, "getent", "passwd", name)); !strings.HasSuffix(shell, ":/var/lib/origin-agent:/usr/sbin/nologin") {
		t.Errorf("passwd entry: %s", shell)
	}
	if conffiles := sh(t, "dpkg-query", "-W", "-f", "${Conffiles}", name); !strings.Contains(conffiles, conffile) {
		t.Errorf("%s is not a conffile: %q", conffile, conffiles)
	}
	if owner := strings.TrimSpace(sh(t, "stat", "-c", "%U:%G %a", stateDir)); owner != "origin-agent:origin-agent 750" {
		t.Errorf("%s: %s, want origin-agent:origin-agent 750", stateDir, owner)
	}
	for _, w := range []string{wants, pathWant} {
		if _, err := os.Lstat(w); err != nil {
			t.Errorf("the unit was not enabled on install: %v", err)
		}
	}
	for _, u := range []string{unitDeb, pathDeb, grantDeb} {
		if out, err := exec.Command("systemd-analyze", "verify", u).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
	}
	// The generator writes a drop-in naming this host's php-fpm logs (or
	// nothing, without php-fpm), and never fails.
	gen := t.TempDir()
	sh(t, genDeb, gen, gen, gen)
	if logs, _ := filepath.Glob("/etc/php/*/fpm/php-fpm.conf"); len(logs) > 0 {
		data, err := os.ReadFile(filepath.Join(gen, "origin-agent-logaccess.path.d", "50-php-fpm-logs.conf"))
		if err != nil || !strings.Contains(string(data), "PathChanged=/var/log/php") {
			t.Errorf("generator drop-in: %q, %v", data, err)
		}
	}
	if _, err := os.Stat("/usr/share/man/man1/origin-agent.1.gz"); err != nil {
		t.Error(err)
	}

	// The administrator changes the configuration; the agent has positions.
	marker := "\n# e2e: changed by the administrator\n"
	appendFile(t, conffile, marker)
	positions := filepath.Join(stateDir, "positions.json")
	if err := os.WriteFile(positions, []byte(`{"e2e":1}`), 0o600); err != nil {
		t.Fatal(err)
	}

	// Upgrade: config and positions kept, new binary in place.
	sh(t, "dpkg", "-i", "--force-confold", cur.deb(debArch()))
	if got := sh(t, "origin-agent", "version"); !strings.Contains(got, cur.version) {
		t.Errorf("origin-agent version after the upgrade: %q, want %s", got, cur.version)
	}
	if data, err := os.ReadFile(conffile); err != nil || !strings.HasSuffix(string(data), marker) {
		t.Errorf("the upgrade lost the changed %s (%v)", conffile, err)
	}
	if data, err := os.ReadFile(positions); err != nil || string(data) != `{"e2e":1}` {
		t.Errorf("the upgrade lost the positions: %q, %v", data, err)
	}

	files := packageFiles(t)

	// Remove: the program goes, configuration and state stay.
	sh(t, "dpkg", "-r", name)
	for _, f := range files {
		if f == conffile || f == "/etc/origin-agent" {
			continue
		}
		if _, err := os.Lstat(f); err == nil && !isDir(f) {
			t.Errorf("after dpkg -r: %s still there", f)
		}
	}
	if _, err := os.Stat(conffile); err != nil {
		t.Errorf("dpkg -r removed the conffile: %v", err)
	}

	// Purge: nothing of the package is left, save the user (policy).
	sh(t, "dpkg", "-P", name)
	for _, f := range append(files, stateDir, "/etc/origin-agent", wants, pathWant) {
		if _, err := os.Lstat(f); err == nil && !(isDir(f) && shared(f)) {
			t.Errorf("after dpkg -P: %s still there", f)
		}
	}
	if err := exec.Command("dpkg", "-s", name).Run(); err == nil {
		t.Error("dpkg -s still knows origin-agent after purge")
	}
}

// packageFiles lists what dpkg installed for the package.
func packageFiles(t *testing.T) []string {
	var files []string
	for _, f := range strings.Split(sh(t, "dpkg", "-L", name), "\n") {
		if f = strings.TrimSpace(f); f != "" && f != "/." {
			files = append(files, f)
		}
	}
	if len(files) < 10 {
		t.Fatalf("dpkg -L lists only %v", files)
	}
	return files
}

// shared reports directories other packages use too (/usr/bin, /etc, …),
// which must of course survive the purge.
func shared(dir string) bool {
	return !strings.Contains(dir, "origin-agent")
}

// isDir follows symlinks: /lib is one to usr/lib on merged-/usr systems.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func appendFile(t *testing.T, path, s string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// keepPHPFPMLogs saves the ACLs of this host's php-fpm logs, which the
// postinst's grant-log-access changes (or creates the logs), and returns
// the function that puts them back as they were.
func keepPHPFPMLogs(t *testing.T) func() {
	const attr = "system.posix_acl_access"
	logs, _ := filepath.Glob("/var/log/php*-fpm.log")
	logs = append(logs, "/var/log/php8.2-fpm.log", "/var/log/php-fpm/error.log")
	saved := map[string][]byte{}
	existed := map[string]bool{}
	for _, p := range logs {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		existed[p] = true
		buf := make([]byte, 4096)
		if n, err := unix.Getxattr(p, attr, buf); err == nil {
			saved[p] = buf[:n]
		}
	}
	return func() {
		for _, p := range logs {
			switch {
			case !existed[p]:
				if fi, err := os.Stat(p); err == nil && fi.Size() == 0 {
					os.Remove(p) // created empty by the grant
				}
			case saved[p] != nil:
				if err := unix.Setxattr(p, attr, saved[p], 0); err != nil {
					t.Logf("restore the ACL of %s: %v", p, err)
				}
			default:
				_ = unix.Removexattr(p, attr)
			}
		}
	}
}
