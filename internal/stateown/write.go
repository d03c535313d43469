package stateown

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// The agent's files in the state directory (positions, the journal
// cursor, the last incident's end, the Cloudflare ranges) are all written
// the same way, here: github.com/google/renameio/v2 for the temporary file,
// fsync and rename, plus what it leaves to its caller — the temporary file
// beside the target (never in $TMPDIR: ownership below is taken from its
// directory), an exact mode whatever the umask, the owner set before the
// rename (so the file is never root's under its own name), and an fsync of
// the directory after it (so the rename itself survives a power loss).

// NewPendingFile starts an atomic replacement of path: a temporary file in
// path's directory, mode perm (umask ignored), already given to the
// directory's owner as Path does. Write to it, then Replace; a deferred
// Cleanup removes it unless Replace succeeded.
func NewPendingFile(path string, perm os.FileMode) (*renameio.PendingFile, error) {
	pf, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(perm))
	if err != nil {
		return nil, err
	}
	if err := Path(pf.Name()); err != nil {
		_ = pf.Cleanup()
		return nil, fmt.Errorf("chown %s: %w", pf.Name(), err)
	}
	return pf, nil
}

// Replace fsyncs and closes pf, renames it over its destination, and
// fsyncs the directory. A reader sees the old file or the whole new one,
// never a part, also after a crash at any moment.
func Replace(pf *renameio.PendingFile) error {
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return err
	}
	dir := filepath.Dir(pf.Name())
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// WriteFile replaces path with data atomically (see NewPendingFile and
// Replace): mode perm, the state directory owner's.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	pf, err := NewPendingFile(path, perm)
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	if _, err := pf.Write(data); err != nil {
		return err
	}
	return Replace(pf)
}
