// Package stateown keeps the state directory usable by the service when
// root runs the agent by hand: every file or directory the agent creates
// in it is given to the owner of the directory it was created in (the
// service user, for /var/lib/origin-agent), so that positions, spool,
// cursors and findings left by `sudo origin-agent run` never lock the
// service out later. Run as anyone else it does nothing: a process can
// only create files of its own, and those are the service's already.
package stateown

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// euid is os.Geteuid, a variable for tests.
var euid = os.Geteuid

// Path gives p (not following a symlink) to the owner and group of its
// directory, when this process is root and the directory is not root's.
func Path(p string) error {
	if euid() != 0 {
		return nil
	}
	uid, gid, ok := owner(filepath.Dir(p))
	if !ok || uid == 0 {
		return nil
	}
	st, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) == uid && int(s.Gid) == gid {
		return nil
	}
	return os.Lchown(p, uid, gid)
}

// Repair gives everything under dir that is not its owner's to that owner:
// files a root run of an older version (or one killed before it could
// chown) left behind. It does nothing unless this process is root and dir
// belongs to someone else.
func Repair(dir string) error {
	if euid() != 0 {
		return nil
	}
	uid, gid, ok := owner(dir)
	if !ok || uid == 0 {
		return nil
	}
	var errs []error
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if p == dir {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if s, ok := info.Sys().(*syscall.Stat_t); ok && (int(s.Uid) != uid || int(s.Gid) != gid) {
			if err := os.Lchown(p, uid, gid); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	})
	return errors.Join(errs...)
}

func owner(dir string) (uid, gid int, ok bool) {
	st, err := os.Stat(dir)
	if err != nil {
		return 0, 0, false
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(s.Uid), int(s.Gid), true
}
