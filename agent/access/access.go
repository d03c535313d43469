// Package access answers "can this user read that file?" the way the
// kernel will when the agent runs as its service user, without being that
// user: owner, group and other bits, the POSIX access ACL (named users and
// groups, the mask), and the search (x) bit of every directory on the way.
// It also grants exactly one user read (or search) by ACL, which is how
// `origin-agent grant-log-access` opens php-fpm's root-only log to the
// service. discover shows its verdicts; health findings reuse the fix texts.
package access

import (
	"errors"
	"fmt"
	"io/fs"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ServiceUser is the user the packaged unit runs as.
const ServiceUser = "origin-agent"

// UnitGroups are the unit's SupplementaryGroups=: the service has them at
// run time even where /etc/group does not list the user in them.
var UnitGroups = []string{"adm", "systemd-journal"}

// User is who must get access: a uid and every group id it runs with.
type User struct {
	Name string
	UID  uint32
	GIDs []uint32
}

// Lookup reads the user and its groups from the system's databases
// (/etc/passwd and /etc/group).
func Lookup(name string) (User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return User{}, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return User{}, fmt.Errorf("user %s: uid %q", name, u.Uid)
	}
	out := User{Name: name, UID: uint32(uid)}
	ids, err := u.GroupIds()
	if err != nil {
		ids = []string{u.Gid}
	}
	if len(ids) == 0 || ids[0] != u.Gid {
		ids = append([]string{u.Gid}, ids...)
	}
	for _, g := range ids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			out.add(uint32(n))
		}
	}
	return out, nil
}

// Service looks up the service user as the unit runs it: its own groups
// plus the unit's SupplementaryGroups= that exist on this host.
func Service() (User, error) {
	u, err := Lookup(ServiceUser)
	if err != nil {
		return u, err
	}
	return u.WithGroups(UnitGroups...), nil
}

// WithGroups adds the groups of these names that exist.
func (u User) WithGroups(names ...string) User {
	u.GIDs = append([]uint32(nil), u.GIDs...)
	for _, n := range names {
		if g, err := user.LookupGroup(n); err == nil {
			if id, err := strconv.ParseUint(g.Gid, 10, 32); err == nil {
				u.add(uint32(id))
			}
		}
	}
	return u
}

func (u *User) add(gid uint32) {
	for _, g := range u.GIDs {
		if g == gid {
			return
		}
	}
	u.GIDs = append(u.GIDs, gid)
}

// InGroup reports whether the user runs with the group.
func (u User) InGroup(gid uint32) bool {
	for _, g := range u.GIDs {
		if g == gid {
			return true
		}
	}
	return false
}

// What the user wants to do with the path: read a file, connect to a
// unix socket (which takes write permission), search a directory.
const (
	Read    = PermRead
	Connect = PermWrite
	Search  = PermExec
)

// Verdict says whether the user can do what it wants with a path.
type Verdict struct {
	Path string `json:"path"`
	OK   bool   `json:"ok"`
	// Reason is why not: the path that denies (the file or a directory on
	// the way), its owner, group, mode and ACL.
	Reason string `json:"reason,omitempty"`
	// Fix is the least-privilege grant that would allow it.
	Fix string `json:"fix,omitempty"`
	// Missing: the path does not exist (yet); OK is false.
	Missing bool `json:"missing,omitempty"`
	// Blocker is the path that denies; BlockerDir when it is a directory
	// on the way (search permission).
	Blocker    string `json:"blocker,omitempty"`
	BlockerDir bool   `json:"-"`
}

// node is what the kernel looks at for one path.
type node struct {
	path     string
	uid, gid uint32
	mode     uint32 // permission bits
	acl      ACL    // nil: none beyond the mode
}

func stat(p string) (node, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return node{}, err
	}
	n := node{path: p, uid: st.Uid, gid: st.Gid, mode: st.Mode & 0o7777}
	a, err := readACL(p)
	if err != nil {
		return n, err
	}
	n.acl = a
	return n, nil
}

// readACL returns the access ACL of p, nil when it has none.
func readACL(p string) (ACL, error) {
	buf := make([]byte, 512)
	for {
		sz, err := unix.Getxattr(p, xattrACLAccess, buf)
		if errors.Is(err, unix.ERANGE) {
			sz, err = unix.Getxattr(p, xattrACLAccess, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: read ACL: %w", p, err)
			}
			buf = make([]byte, sz)
			continue
		}
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read ACL: %w", p, err)
		}
		a, err := ParseACL(buf[:sz])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return a, nil
	}
}

// allows applies acl(5)'s access check algorithm.
func (n node) allows(u User, want uint16) bool {
	if u.UID == 0 {
		// CAP_DAC_OVERRIDE: root reads and searches anything.
		return true
	}
	a := n.acl
	if a == nil {
		a = minimalACL(n.mode)
	}
	mask := uint16(7)
	if i := a.find(TagMask, 0); i >= 0 {
		mask = a[i].Perm
	}
	if u.UID == n.uid {
		return uint16(n.mode>>6)&want == want
	}
	if i := a.find(TagUser, u.UID); i >= 0 {
		return a[i].Perm&mask&want == want
	}
	matched := false
	for _, e := range a {
		if (e.Tag == TagGroupObj && u.InGroup(n.gid)) || (e.Tag == TagGroup && u.InGroup(e.ID)) {
			matched = true
			if e.Perm&mask&want == want {
				return true
			}
		}
	}
	if matched {
		return false
	}
	return uint16(n.mode)&want == want
}

// describe is the path as ls -l and getfacl would show it.
func (n node) describe() string {
	s := fmt.Sprintf("%s %s:%s %04o", n.path, userName(n.uid), groupName(n.gid), n.mode)
	if n.acl.Extended() {
		s += " acl " + n.acl.String()
	}
	return s
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return strconv.FormatUint(uint64(uid), 10)
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// chain is every directory on the way to p, from "/", then p itself.
func chain(p string) []string {
	p = filepath.Clean(p)
	var dirs []string
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		dirs = append([]string{d}, dirs...)
		if d == "/" {
			break
		}
	}
	return append(dirs, p)
}

// Check tells whether u can do want (Read, Connect, Search) with the
// absolute path p, following symbolic links as open() would. It needs to
// stat every directory on the way: run as root it answers for any user.
func Check(p string, u User, want uint16) Verdict {
	v := Verdict{Path: p}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		// The file may appear later (a log not yet written): what matters
		// now is whether its directory can be entered.
		v.Missing = true
		v.Reason = "does not exist"
		if dv := Check(filepath.Dir(p), u, Search); !dv.OK && !dv.Missing {
			v.Reason += "; " + dv.Reason
			v.Fix, v.Blocker, v.BlockerDir = dv.Fix, dv.Blocker, true
		}
		return v
	}
	if err != nil {
		v.Reason = fmt.Sprintf("cannot tell: %v (run as root to check for %s)", unwrap(err), u.Name)
		return v
	}
	c := chain(real)
	for i, q := range c {
		n, err := stat(q)
		if err != nil {
			v.Reason = fmt.Sprintf("cannot tell: %v (run as root to check for %s)", unwrap(err), u.Name)
			return v
		}
		w, dir := want, i < len(c)-1
		if dir {
			w = Search
		}
		if n.allows(u, w) {
			continue
		}
		v.Blocker, v.BlockerDir = q, dir
		if dir {
			v.Reason = fmt.Sprintf("directory %s: %s may not enter it (x)", n.describe(), u.Name)
			v.Fix = fileFix(n, u, Search)
		} else {
			v.Reason = fmt.Sprintf("%s: no %s for %s", n.describe(), wantName(want), u.Name)
			v.Fix = fileFix(n, u, want)
		}
		return v
	}
	v.OK = true
	return v
}

// fileFix is the smallest grant: group adm where the file or directory is
// adm's (the Debian way for logs), else an ACL entry for the user alone.
func fileFix(n node, u User, want uint16) string {
	if g := groupName(n.gid); g == "adm" && uint16(n.mode>>3)&want == want {
		return fmt.Sprintf("usermod -aG adm %s (then restart origin-agent)", u.Name)
	}
	return fmt.Sprintf("setfacl -m u:%s:%s %s", u.Name, permString(want), n.path)
}

func wantName(w uint16) string {
	switch w {
	case Read:
		return "read"
	case Connect:
		return "connect (write)"
	case Search:
		return "search (x)"
	}
	return permString(w)
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// Grant gives u exactly want on p, and search on each directory on the way
// it cannot enter, by adding a named-user ACL entry (and raising the mask
// just enough). It changes nothing where u has the access already, so it
// can run again and again; it returns what it changed, one
// "user:NAME:r-- PATH" per path. It needs root (or CAP_FOWNER).
func Grant(p string, u User, want uint16) ([]string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, err
	}
	var changed []string
	c := chain(real)
	for i, q := range c {
		w := want
		if i < len(c)-1 {
			w = Search
		}
		n, err := stat(q)
		if err != nil {
			return changed, err
		}
		if n.allows(u, w) {
			continue
		}
		if u.UID == n.uid {
			return changed, fmt.Errorf("%s: %s owns it but its mode %04o denies %s; not changing the owner's bits", q, u.Name, n.mode, wantName(w))
		}
		a := n.acl
		if a == nil {
			a = minimalACL(n.mode)
		}
		na, did, err := a.WithUser(u.UID, w)
		if err != nil {
			return changed, fmt.Errorf("%s: %w; grant by hand", q, err)
		}
		if !did {
			// The ACL allows it already: something else denies (cannot
			// happen with a consistent ACL, but never loop on it).
			return changed, fmt.Errorf("%s: %s has %s in the ACL but is still denied", q, u.Name, permString(w))
		}
		if err := unix.Setxattr(q, xattrACLAccess, na.Bytes(), 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) {
				return changed, fmt.Errorf("%s: this file system does not support ACLs (mount it with acl)", q)
			}
			return changed, fmt.Errorf("%s: set ACL: %w", q, err)
		}
		changed = append(changed, fmt.Sprintf("user:%s:%s %s", u.Name, permString(w), q))
	}
	return changed, nil
}

// Describe returns "owner:group mode [acl ...]" of p, for messages and tests.
func Describe(p string) string {
	n, err := stat(p)
	if err != nil {
		return err.Error()
	}
	return strings.TrimPrefix(n.describe(), p+" ")
}
