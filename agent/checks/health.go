package checks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Health checks: what the agent itself cannot see. Each is a Warn with
// CauseCannotObserve, naming the file or socket, the reason and the least
// privilege that fixes it, and a Pass once it works again; the daemon makes
// them `health` findings (severity warning, never an incident).

// LogAccessUnit is the packaged path unit that grants the service user read
// access to php-fpm's logs after every rotation (php-fpm recreates them
// root:root 0600, so neither a group nor a plain ACL lasts).
const LogAccessUnit = "origin-agent-logaccess.path"

// FileHealth says whether the agent can read the log at path. phpFPM marks
// php-fpm's own log, whose grant is LogAccessUnit. A file that does not
// exist (yet) is a skip: the tailer waits for it.
func FileHealth(path string, phpFPM bool) Check {
	id := "health.file:" + path
	f, err := os.Open(path)
	if err == nil {
		f.Close()
		return Passed(id, "the agent can read "+path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Skipped(id, path+" does not exist (yet)")
	}
	c := newCheck(id)
	c.Status, c.Cause = Warn, CauseCannotObserve
	c.Details["path"] = path
	why := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		why = pe.Err.Error()
	}
	if errors.Is(err, fs.ErrPermission) {
		if own := owner(path); own != "" {
			why += " (" + own + ")"
		}
	}
	c.Summary = fmt.Sprintf("cannot read %s: %s; the agent does not see what this log says, so incidents may get a weaker cause", path, why)
	if !errors.Is(err, fs.ErrPermission) {
		c.Fix = []string{"# " + err.Error()}
		return c
	}
	c.Fix = FileGrant(path, phpFPM, serviceUser())
	return c
}

// FileGrant is the least privilege that lets user read path: for php-fpm's
// log the packaged log-access unit; else x on each directory that blocks
// the way, then the file's group where that group may read it (adm on
// Debian), else a read ACL for user alone.
func FileGrant(path string, phpFPM bool, user string) []string {
	if phpFPM {
		return []string{fmt.Sprintf("systemctl enable --now %s   # a root oneshot that grants %s read ACLs on php-fpm's logs after every rotation", LogAccessUnit, user)}
	}
	var out []string
	dir := filepath.Dir(path)
	var dirs []string
	for d := dir; ; d = filepath.Dir(d) {
		dirs = append([]string{d}, dirs...)
		if d == "/" || d == "." {
			break
		}
	}
	for _, d := range dirs {
		if unix.Access(d, unix.X_OK) != nil {
			out = append(out, fmt.Sprintf("setfacl -m u:%s:x %s", user, d))
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		// Behind a directory we may not enter: say what to do after.
		return append(out, fmt.Sprintf("setfacl -m u:%s:r %s   # if it is still unreadable after the line above", user, path))
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Gid != 0 && st.Mode().Perm()&0o040 != 0 {
		if g, err := lookupGroup(sys.Gid); err == nil {
			return append(out, fmt.Sprintf("usermod -aG %s %s && systemctl restart origin-agent   # group %s may read %s", g, user, g, path))
		}
	}
	return append(out, fmt.Sprintf("setfacl -m u:%s:r %s   # and in its logrotate stanza, or a default ACL on %s (setfacl -d -m u:%s:r %s), so that rotation keeps it", user, path, dir, user, dir))
}

// KernelAttempt is one kernel source the daemon tried, in order.
type KernelAttempt struct {
	Source string // "kmsg", "journal" or "file"
	Path   string
	Err    error // nil: this one is read
}

// KernelHealth is the health of the kernel log: pass when the daemon reads
// one source, else a warning that names every source tried, why it failed
// and the grant for the best one.
func KernelHealth(tried []KernelAttempt) Check {
	const id = "health.kernel"
	var why []string
	for _, a := range tried {
		if a.Err == nil {
			return Passed(id, fmt.Sprintf("the kernel log is read from %s (%s)", a.Path, a.Source))
		}
		why = append(why, fmt.Sprintf("%s: %v", a.Path, a.Err))
	}
	if len(tried) == 0 {
		return Skipped(id, "no kernel source configured")
	}
	user := serviceUser()
	c := newCheck(id)
	c.Status, c.Cause = Warn, CauseCannotObserve
	c.Summary = "cannot read the kernel log (" + strings.Join(why, "; ") + "): OOM kills are seen only through cgroup counters, segfaults not at all"
	for _, a := range tried {
		switch a.Source {
		case "kmsg":
			c.Fix = append(c.Fix, "# /dev/kmsg needs CAP_SYSLOG: the packaged unit grants it (AmbientCapabilities=CAP_SYSLOG); check `systemctl cat origin-agent`, and that a drop-in does not remove it")
		case "journal":
			c.Fix = append(c.Fix, fmt.Sprintf("usermod -aG systemd-journal %s && systemctl restart origin-agent   # or group adm: the journal's readers", user))
		case "file":
			c.Fix = append(c.Fix, FileGrant(a.Path, false, user)...)
		case "none":
			c.Fix = append(c.Fix,
				"# /dev/kmsg needs CAP_SYSLOG: the packaged unit grants it (AmbientCapabilities=CAP_SYSLOG); by hand: run the agent with that capability",
				fmt.Sprintf("usermod -aG systemd-journal %s && systemctl restart origin-agent   # where the journal holds the kernel's messages (or group adm)", user))
		}
	}
	return c
}

// JournalReadable says whether the system journal's files can be read:
// nil when one opens, or when there is none to try (no journald).
func JournalReadable(dirs ...string) error {
	if len(dirs) == 0 {
		dirs = []string{"/var/log/journal", "/run/log/journal"}
	}
	var first error
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "*", "system.journal"))
		for _, p := range m {
			f, err := os.Open(p)
			if err == nil {
				f.Close()
				return nil
			}
			if first == nil {
				first = err
			}
		}
		if first == nil {
			// A machine directory we may not list hides the files.
			ents, err := os.ReadDir(d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				first = err
			}
			for _, e := range ents {
				if _, err := os.ReadDir(filepath.Join(d, e.Name())); err != nil && first == nil {
					first = err
				}
			}
		}
	}
	return first
}

// owner describes a file's owner, group and mode: "root:root 0600".
func owner(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	u, g := fmt.Sprint(sys.Uid), fmt.Sprint(sys.Gid)
	if x, err := user.LookupId(u); err == nil {
		u = x.Username
	}
	if x, err := lookupGroup(sys.Gid); err == nil {
		g = x
	}
	return fmt.Sprintf("%s:%s %04o", u, g, st.Mode().Perm())
}

func lookupGroup(gid uint32) (string, error) {
	g, err := user.LookupGroupId(fmt.Sprint(gid))
	if err != nil {
		return "", err
	}
	return g.Name, nil
}

// serviceUser is the user the agent runs as, for grants; the packaged
// unit's "origin-agent" when it cannot be looked up.
func serviceUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "origin-agent"
}
