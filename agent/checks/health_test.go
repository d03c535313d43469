package checks

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func TestFileGrant(t *testing.T) {
	dir := t.TempDir()
	if g := FileGrant("/var/log/php8.2-fpm.log", true, "origin-agent"); len(g) != 1 || !strings.HasPrefix(g[0], "systemctl enable --now origin-agent-logaccess.path") {
		t.Errorf("php-fpm: %q", g)
	}
	private := filepath.Join(dir, "private.log")
	if err := os.WriteFile(private, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	g := FileGrant(private, false, "origin-agent")
	if len(g) == 0 || !strings.HasPrefix(g[len(g)-1], "setfacl -m u:origin-agent:r "+private) {
		t.Errorf("0600: %q", g)
	}
	// A file its group may read: the group is the grant.
	grp, err := user.LookupGroup("adm")
	testenv.Require(t, testenv.Root(), testenv.Need{OK: err == nil, What: "group adm", Hint: "groupadd adm"}) // to chown a file to it
	gid, _ := strconv.Atoi(grp.Gid)
	shared := filepath.Join(dir, "access.log")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(shared, 0, gid); err != nil {
		t.Fatal(err)
	}
	if g := FileGrant(shared, false, "origin-agent"); len(g) == 0 || !strings.HasPrefix(g[len(g)-1], "usermod -aG adm origin-agent") {
		t.Errorf("0640 root:adm: %q", g)
	}
}

func TestFileHealth(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	if c := FileHealth(p, false); c.Status != Skip || c.Reported() != ReportNothing {
		t.Errorf("missing: %+v", c)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := FileHealth(p, false); c.Status != Pass || c.ID != "health.file:"+p {
		t.Errorf("readable: %+v", c)
	}
}

func TestKernelHealth(t *testing.T) {
	denied := &fs.PathError{Op: "open", Path: "/dev/kmsg", Err: fs.ErrPermission}
	c := KernelHealth([]KernelAttempt{{Source: "kmsg", Path: "/dev/kmsg", Err: denied}, {Source: "journal", Path: "/usr/bin/journalctl"}})
	if c.Status != Pass {
		t.Errorf("kmsg denied, journal read: %+v", c)
	}
	c = KernelHealth([]KernelAttempt{{Source: "kmsg", Path: "/dev/kmsg", Err: denied}, {Source: "journal", Path: "/usr/bin/journalctl", Err: errors.New("open /var/log/journal/x/system.journal: permission denied")}})
	fix := c.Remediation()
	if c.Status != Warn || c.Cause != CauseCannotObserve || !strings.Contains(c.Summary, "/dev/kmsg") ||
		!strings.Contains(fix, "CAP_SYSLOG") || !strings.Contains(fix, "usermod -aG systemd-journal") {
		t.Errorf("nothing readable: %+v", c)
	}
	if c := KernelHealth(nil); c.Status != Skip {
		t.Errorf("no source: %+v", c)
	}
}
