// Package stockhost boots a stock Debian bookworm host for the package
// end-to-end tests: a root built by debootstrap with nginx, php8.2-fpm and
// apache2 installed by apt inside it (Debian's own default files, users,
// modes and log locations), with systemd as PID 1 of its own PID, mount,
// UTS, IPC and network namespaces (FACTS.md, "A real systemd for package
// tests"). The installed .deb then runs exactly as its unit runs it.
//
// The bootstrapped root is cached as a tarball under CacheDir, keyed by the
// bootstrap script (which holds the package list): the first run takes
// minutes, later runs seconds. Every Boot extracts a fresh copy and removes
// it when the test ends.
package stockhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/renameio/v2"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// CacheDir keeps the bootstrapped roots between runs.
const CacheDir = "/var/cache/origin-agent-e2e"

//go:embed bootstrap.sh
var bootstrapScript string

// boot runs inside the new namespaces: the mounts systemd expects, then
// systemd itself as PID 1 of the PID namespace, chrooted into the root.
// Mount propagation is private, so all of it vanishes with the namespace.
//
// Two things the recipe of FACTS.md lacked, found here:
//   - the root is bind-mounted onto itself: systemd makes "/" a shared mount
//     for the namespaces of units with PrivateTmp/ProtectSystem/...; when "/"
//     is no mount point that fails and those units exit 226/NAMESPACE
//     (systemd-logind did, and origin-agent.service would);
//   - container=stockhost tells systemd it runs in a container (its
//     documented interface for container managers): without udev the serial
//     console's getty waits 90 s for dev-ttyS0.device otherwise.
const bootScript = `set -e
R=$1
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
hostname stockhost
exec env container=stockhost chroot "$R" /lib/systemd/systemd --system --log-target=console
`

// enterScript puts itself into the host's own cgroup in every hierarchy,
// then unshares a cgroup namespace rooted there with the rest: the inner
// systemd creates its slices under that cgroup instead of at the root of the
// machine's hierarchies, where a second stock host (or the machine's own
// systemd) would share them.
const enterScript = `set -e
CG=$1; shift
for h in /sys/fs/cgroup/*; do
  [ -e "$h/cgroup.procs" ] || continue
  mkdir -p "$h/$CG"
  if [ -e "$h/cpuset.cpus" ]; then
    cat "$h/cpuset.cpus" > "$h/$CG/cpuset.cpus"; cat "$h/cpuset.mems" > "$h/$CG/cpuset.mems"
  fi
  echo $$ > "$h/$CG/cgroup.procs"
done
exec unshare --cgroup --pid --fork --mount --uts --ipc --net --propagation private "$@"
`

// Require skips the test unless it can run (root and the tools the harness
// drives); under ORIGIN_AGENT_E2E=1 a missing piece is a failure instead.
func Require(t testing.TB, extra ...string) {
	t.Helper()
	needs := []testenv.Need{testenv.Root()}
	pkgs := map[string]string{"debootstrap": "debootstrap", "unshare": "util-linux", "nsenter": "util-linux", "chroot": "coreutils", "tar": "tar", "mount": "mount"}
	for _, tool := range append([]string{"debootstrap", "unshare", "nsenter", "chroot", "tar", "mount"}, extra...) {
		pkg := pkgs[tool]
		if pkg == "" {
			pkg = tool
		}
		needs = append(needs, testenv.Command(tool, pkg))
	}
	testenv.Require(t, needs...)
}

// Image returns the cached root tarball, bootstrapping it first when the
// cache has none for the current script. Concurrent callers (two test
// binaries) wait for one another on a lock file in CacheDir.
func Image(t testing.TB) string {
	t.Helper()
	sum := sha256.Sum256([]byte(bootstrapScript))
	path := filepath.Join(CacheDir, "stockhost-bookworm-"+hex.EncodeToString(sum[:6])+".tar")
	if err := os.MkdirAll(CacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(CacheDir, "stockhost.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	root, err := os.MkdirTemp("/var/tmp", "stockhost-bootstrap-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	// Inside a mount namespace of its own: the script's proc/dev mounts in
	// the root disappear with it even if it fails half-way.
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "bash", "-c", bootstrapScript, "bootstrap", root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bootstrapping a Debian root: %v\n%s", err, tail(out, 60))
	}
	if err := saveTar(root, path); err != nil {
		t.Fatal(err)
	}
	t.Logf("bootstrapped %s in %s", path, time.Since(start).Round(time.Second))
	return path
}

// saveTar archives the directory root into path atomically (renameio), so
// that a run killed half-way leaves no partial image the next run would
// take for the cache. The caller holds the cache lock: a temporary file of
// an earlier run found here is that killed run's, and is removed.
func saveTar(root, path string) error {
	dir := filepath.Dir(path)
	stale, _ := filepath.Glob(filepath.Join(dir, ".stockhost-*"))
	for _, p := range stale {
		os.Remove(p)
	}
	pf, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithPermissions(0o644))
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	var stderr bytes.Buffer
	tar := exec.Command("tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", "-", ".")
	tar.Stdout, tar.Stderr = pf.File, &stderr
	if err := tar.Run(); err != nil {
		return fmt.Errorf("tar: %v\n%s", err, stderr.Bytes())
	}
	return pf.CloseAtomicallyReplace()
}

// Host is one booted stock host.
type Host struct {
	Root string // the root directory, as seen from the test
	PID  int    // systemd, PID 1 of the host's namespaces, as seen from the test
	// Cgroup is the host's cgroup, the root of its cgroup namespace, under
	// the root of every hierarchy of the machine (/sys/fs/cgroup/*/Cgroup).
	Cgroup string
	t      testing.TB
	cmd    *exec.Cmd
	done   chan struct{}
}

// Boot extracts a fresh copy of image and starts systemd on it. The host is
// killed and its root removed when the test ends.
func Boot(t testing.TB, image string) *Host {
	t.Helper()
	start := time.Now()
	root, err := os.MkdirTemp("/var/tmp", "stockhost-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "--numeric-owner", "--xattrs", "-xpf", image, "-C", root).CombinedOutput(); err != nil {
		os.RemoveAll(root)
		t.Fatalf("extracting %s: %v\n%s", image, err, out)
	}
	extracted := time.Since(start)
	// No logins on a test host: in a container systemd starts a getty on
	// /dev/console, which here is the machine's own.
	for _, unit := range []string{"getty.target", "console-getty.service"} {
		if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system", unit)); err != nil {
			t.Fatal(err)
		}
	}
	console, err := os.Create(filepath.Join(root, "var/log/stockhost-console.log"))
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{Root: root, Cgroup: filepath.Base(root), t: t, done: make(chan struct{})}
	h.cmd = exec.Command("sh", "-c", enterScript, "enter", h.Cgroup, "sh", "-c", bootScript, "boot", root)
	h.cmd.Stdout, h.cmd.Stderr = console, console
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { h.cmd.Wait(); console.Close(); close(h.done) }()
	t.Cleanup(h.shutdown)

	// systemd is unshare's only child, PID 1 of its namespace (sh runs
	// mkdir and cat before it execs unshare: their PIDs are not it).
	self := h.cmd.Process.Pid
	children := fmt.Sprintf("/proc/%d/task/%d/children", self, self)
	for deadline := time.Now().Add(10 * time.Second); h.PID == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("unshare started no systemd:\n%s", h.console())
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", self)); strings.TrimSpace(string(comm)) != "unshare" {
			continue
		}
		b, _ := os.ReadFile(children)
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); bytes.Contains(st, []byte("\nNSpid:\t"+f[0]+"\t1\n")) {
			h.PID = pid
		}
	}
	// Wait for the boot to finish: is-system-running --wait returns when
	// no job is left ("running", or "degraded" with a failed unit).
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var state string
	for {
		out, _ := h.command(ctx, "systemctl", "is-system-running", "--wait").Output()
		state = strings.TrimSpace(string(out))
		if state == "running" || state == "degraded" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("systemd did not finish booting (state %q):\n%s", state, h.console())
		}
		time.Sleep(200 * time.Millisecond)
	}
	failed, _ := h.Run("systemctl", "--failed", "--no-legend", "--plain")
	t.Logf("stock host booted: systemd pid %d, root %s, extracted in %s, booted in %s, state %s %s",
		h.PID, root, extracted.Round(time.Millisecond), (time.Since(start) - extracted).Round(time.Millisecond),
		state, strings.TrimSpace(failed))
	return h
}

func (h *Host) console() string {
	b, _ := os.ReadFile(filepath.Join(h.Root, "var/log/stockhost-console.log"))
	return string(tail(b, 40))
}

// command is a command run inside every namespace of the host, in its root.
func (h *Host) command(ctx context.Context, args ...string) *exec.Cmd {
	a := append([]string{"-t", strconv.Itoa(h.PID), "-p", "-m", "-u", "-i", "-n", "-r", "-w", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", a...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"SYSTEMD_PAGER=", "DEBIAN_FRONTEND=noninteractive"}
	return cmd
}

// Command is a command to run inside the host (namespaces and root).
func (h *Host) Command(ctx context.Context, args ...string) *exec.Cmd { return h.command(ctx, args...) }

// Run runs a command inside the host and returns its combined output.
func (h *Host) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := h.command(ctx, args...).CombinedOutput()
	return string(out), err
}

// MustRun runs a command inside the host and fails the test if it fails.
func (h *Host) MustRun(args ...string) string {
	h.t.Helper()
	out, err := h.Run(args...)
	if err != nil {
		h.t.Fatalf("in the stock host: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Path is a path inside the host as seen from the test.
func (h *Host) Path(p string) string { return filepath.Join(h.Root, p) }

// ReadFile reads a file of the host.
func (h *Host) ReadFile(p string) ([]byte, error) { return os.ReadFile(h.Path(p)) }

// WriteFile writes a file of the host (owned by root).
func (h *Host) WriteFile(p string, data []byte, mode os.FileMode) error {
	return os.WriteFile(h.Path(p), data, mode)
}

// shutdown kills systemd (and with it every process of the PID namespace),
// waits for the namespaces to go, and removes the root.
func (h *Host) shutdown() {
	if h.t.Failed() && h.PID != 0 {
		out, _ := h.Run("journalctl", "--no-pager", "-n", "200", "-o", "short-precise")
		h.t.Logf("journal of the stock host (last 200 lines):\n%s", out)
	}
	if h.PID != 0 {
		syscall.Kill(h.PID, syscall.SIGKILL)
	}
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
	}
	h.removeCgroups()
	// The mounts lived in the host's private mount namespace; should any
	// still show here, removing the root would walk into them.
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && bytes.Contains(mi, []byte(" "+h.Root+"/")) {
		h.t.Errorf("mounts under %s outlived the stock host; not removing it", h.Root)
		return
	}
	os.RemoveAll(h.Root)
}

// removeCgroups removes the host's cgroups, innermost first (its
// processes are gone: rmdir of a v1 cgroup works on an empty one).
func (h *Host) removeCgroups() {
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, hr := range hier {
		top := filepath.Join(hr, h.Cgroup)
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !os.IsNotExist(err) {
				h.t.Logf("removing cgroup %s: %v", dirs[i], err)
			}
		}
	}
}

func tail(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}
