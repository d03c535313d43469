package access

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// These tests make real files with real owners, modes and ACLs (root,
// setfacl), and hold every verdict of Check against the kernel: a process
// running with exactly the user's uid and groups tries the same access.

func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	needs := []testenv.Need{testenv.Root()}
	for _, tool := range tools {
		needs = append(needs, testenv.Command(tool, "acl"))
	}
	testenv.Require(t, needs...)
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// kernelAllows asks the kernel: can a process of u open p for want?
func kernelAllows(t *testing.T, u User, p string, want uint16) bool {
	t.Helper()
	script := `exec <"$1"`
	if want == Connect {
		script = `test -w "$1"`
	}
	cmd := exec.Command("/bin/sh", "-c", script, "sh", p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.UID, Gid: u.GIDs[0], Groups: u.GIDs}}
	return cmd.Run() == nil
}

const (
	probeUID = 65534 // nobody: a real uid without rights of its own
	admGID   = 4
	wwwGID   = 33
)

func TestCheckAgainstKernel(t *testing.T) {
	needRoot(t, "setfacl")
	plain := User{Name: "probe", UID: probeUID, GIDs: []uint32{65534}}
	adm := User{Name: "probe", UID: probeUID, GIDs: []uint32{65534, admGID}}
	www := User{Name: "probe", UID: probeUID, GIDs: []uint32{65534, wwwGID}}

	type tc struct {
		name  string
		user  User
		setup func(t *testing.T, dir string) string // returns the path to check
		want  uint16
		ok    bool
		fix   string // substring of Fix ("DIR" and "PATH" replaced)
	}
	file := func(mode os.FileMode, uid, gid int, acl ...string) func(*testing.T, string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "log")
			if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			for _, a := range acl {
				run(t, "setfacl", "-m", a, p)
			}
			return p
		}
	}
	cases := []tc{
		{name: "php-fpm log root 0600", user: adm, setup: file(0o600, 0, 0), want: Read, fix: "setfacl -m u:probe:r-- PATH"},
		{name: "world readable", user: plain, setup: file(0o644, 0, 0), want: Read, ok: true},
		{name: "nginx log adm 0640, in adm", user: adm, setup: file(0o640, wwwGID, admGID), want: Read, ok: true},
		{name: "nginx log adm 0640, not in adm", user: plain, setup: file(0o640, wwwGID, admGID), want: Read, fix: "usermod -aG adm probe"},
		{name: "named user ACL", user: plain, setup: file(0o600, 0, 0, "u:65534:r"), want: Read, ok: true},
		{name: "named user ACL masked out", user: plain, setup: file(0o600, 0, 0, "u:65534:r", "m::-"), want: Read, fix: "setfacl"},
		{name: "named group ACL", user: adm, setup: file(0o600, 0, 0, "g:4:r"), want: Read, ok: true},
		{name: "owner bits win over group", user: www, setup: file(0o040, probeUID, wwwGID), want: Read},
		{name: "other bits for a stranger", user: plain, setup: file(0o604, 0, wwwGID), want: Read, ok: true},
		{name: "group entry matched denies other", user: www, setup: file(0o604, 0, wwwGID), want: Read},
		{name: "directory not searchable", user: adm, want: Read, fix: "setfacl -m u:probe:--x DIR",
			setup: func(t *testing.T, dir string) string {
				p := file(0o644, 0, 0)(t, dir)
				if err := os.Chmod(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "directory of adm", user: plain, want: Read, fix: "usermod -aG adm probe",
			setup: func(t *testing.T, dir string) string {
				p := file(0o644, 0, 0)(t, dir)
				if err := os.Chown(dir, 0, admGID); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, 0o750); err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "directory searchable by ACL", user: plain, want: Read, ok: true,
			setup: func(t *testing.T, dir string) string {
				p := file(0o644, 0, 0)(t, dir)
				if err := os.Chmod(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				run(t, "setfacl", "-m", "u:65534:x", dir)
				return p
			}},
		{name: "symlink to a root-only file", user: plain, want: Read,
			setup: func(t *testing.T, dir string) string {
				p := file(0o600, 0, 0)(t, dir)
				l := filepath.Join(dir, "link")
				if err := os.Symlink(p, l); err != nil {
					t.Fatal(err)
				}
				return l
			}},
		{name: "php-fpm socket www-data 0660", user: plain, want: Connect, fix: "setfacl -m u:probe:-w-",
			setup: func(t *testing.T, dir string) string { return sock(t, dir, 0o660) }},
		{name: "php-fpm socket, in www-data", user: www, want: Connect, ok: true,
			setup: func(t *testing.T, dir string) string { return sock(t, dir, 0o660) }},
		{name: "missing file", user: plain, want: Read,
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "nothing") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := openDir(t)
			p := c.setup(t, dir)
			v := Check(p, c.user, c.want)
			kernel := kernelAllows(t, c.user, p, c.want)
			t.Logf("%s: %+v", Describe(p), v)
			if v.OK != kernel {
				t.Errorf("Check says %v, the kernel %v: %+v", v.OK, kernel, v)
			}
			if v.OK != c.ok {
				t.Errorf("Check says %v, want %v", v.OK, c.ok)
			}
			if !v.OK && v.Reason == "" {
				t.Error("no reason")
			}
			fix := strings.NewReplacer("DIR", dir, "PATH", p).Replace(c.fix)
			if !strings.Contains(v.Fix, fix) {
				t.Errorf("fix %q, want it to contain %q", v.Fix, fix)
			}
		})
	}
}

// openDir is a temporary directory anyone may enter (t.TempDir's parent
// is 0700).
func openDir(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sock(t *testing.T, dir string, mode os.FileMode) string {
	p := filepath.Join(dir, "fpm.sock")
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := os.Chown(p, wwwGID, wwwGID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGrant opens a php-fpm-like log (root 0600 in a root 0700 directory)
// to one user: that user reads it, another does not, the owning group and
// others keep nothing, and a second run changes nothing.
func TestGrant(t *testing.T) {
	needRoot(t, "getfacl")
	u := User{Name: "probe", UID: probeUID, GIDs: []uint32{65534}}
	other := User{Name: "stranger", UID: 65533, GIDs: []uint32{65533, admGID}}
	top := openDir(t)
	dir := filepath.Join(top, "php-fpm")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "error.log")
	if err := os.WriteFile(p, []byte("NOTICE: ready\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changed, err := Grant(p, u, Read)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 || !strings.HasSuffix(changed[0], "--x "+dir) || !strings.HasSuffix(changed[1], "r-- "+p) {
		t.Errorf("changed %q", changed)
	}
	if !kernelAllows(t, u, p, Read) || !Check(p, u, Read).OK {
		t.Errorf("after the grant %s cannot read %s (%s)", u.Name, p, Describe(p))
	}
	if kernelAllows(t, other, p, Read) {
		t.Errorf("the grant opened %s to %s too", p, other.Name)
	}
	for path, want := range map[string]string{
		p:   "user::rw-\nuser:65534:r--\ngroup::---\nmask::r--\nother::---\n",
		dir: "user::rwx\nuser:65534:--x\ngroup::---\nmask::--x\nother::---\n",
	} {
		out, err := exec.Command("getfacl", "-n", "--omit-header", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)) + "\n"; got != want {
			t.Errorf("getfacl %s:\n%s\nwant:\n%s", path, got, want)
		}
	}
	again, err := Grant(p, u, Read)
	if err != nil || len(again) != 0 {
		t.Errorf("second grant: %q, %v", again, err)
	}
}
