package analyze

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// walker lists the log files under a directory. It follows symbolic links
// (a log linked into /var/log from where an application writes it is a log
// of the host), reads a file reached twice (a link to a file also listed,
// a directory linked into the tree) once, and never enters a directory it
// is already inside (a link loop). What it skips and why goes to notes.
type walker struct {
	seen  map[fileID]bool // regular files taken
	dirs  map[fileID]bool // directories on the current path
	notes []string
}

type fileID struct{ dev, ino uint64 }

func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}

func newWalker() *walker {
	return &walker{seen: map[fileID]bool{}, dirs: map[fileID]bool{}}
}

// entryType is the type of a directory entry, of its target for a
// symbolic link (fi is then the target's FileInfo). A link that cannot be
// followed is noted and comes back as ok false.
func (w *walker) entryType(p string, e fs.DirEntry) (typ fs.FileMode, fi fs.FileInfo, ok bool) {
	typ = e.Type()
	if typ&fs.ModeSymlink == 0 {
		return typ, nil, true
	}
	fi, err := os.Stat(p)
	if err != nil {
		w.notes = append(w.notes, fmt.Sprintf("%s: symbolic link not followed: %v", p, err))
		return 0, nil, false
	}
	return fi.Mode().Type(), fi, true
}

// files lists the regular files under dir with a name a log would have,
// sorted.
func (w *walker) files(dir string) ([]string, error) {
	var out []string
	var walk func(d string, fi fs.FileInfo) error
	walk = func(d string, fi fs.FileInfo) error {
		if id, ok := idOf(fi); ok {
			if w.dirs[id] {
				w.notes = append(w.notes, fmt.Sprintf("%s: a link back to a directory above it (a loop), not entered", d))
				return nil
			}
			w.dirs[id] = true
			defer delete(w.dirs, id)
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(d, e.Name())
			typ, tfi, ok := w.entryType(p, e)
			if !ok {
				continue
			}
			switch {
			case typ.IsDir():
				if tfi == nil {
					if tfi, err = e.Info(); err != nil {
						continue // gone meanwhile
					}
				}
				if err := walk(p, tfi); err != nil {
					return err
				}
			case typ&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice) != 0:
				w.notes = append(w.notes, fmt.Sprintf("%s: not a regular file (%v), skipped; name it on the command line to read it", p, typ))
			case typ.IsRegular() && looksLikeLogName(p):
				if w.once(p, tfi, e) {
					out = append(out, p)
				}
			}
		}
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	err = walk(dir, fi)
	sort.Strings(out)
	return out, err
}

// once reports whether the directory or file p (fi its FileInfo when p is
// a link, else nil and e its entry) is met for the first time; a second
// time is noted.
func (w *walker) once(p string, fi fs.FileInfo, e fs.DirEntry) bool {
	if fi == nil {
		var err error
		if fi, err = e.Info(); err != nil {
			return false // gone meanwhile
		}
	}
	id, ok := idOf(fi)
	if !ok {
		return true
	}
	if w.seen[id] {
		w.notes = append(w.notes, fmt.Sprintf("%s: the same as another one read (a link), read once", p))
		return false
	}
	w.seen[id] = true
	return true
}
