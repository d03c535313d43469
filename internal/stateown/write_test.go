package stateown

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	old := syscall.Umask(0o077) // the mode is exact, whatever the umask
	defer syscall.Umask(old)
	if err := WriteFile(p, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	// A replaced file gets perm, not the mode it had.
	if err := WriteFile(p, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "two\n" {
		t.Errorf("content %q, %v", b, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil, 0o600); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// TestPendingFileBesideAndReplace: the temporary file is in the target's
// directory (never $TMPDIR, which may be on the same file system) and the
// target keeps its old content until Replace.
func TestPendingFileBesideAndReplace(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	p := filepath.Join(dir, "positions.json")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	pf, err := NewPendingFile(p, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Cleanup()
	if filepath.Dir(pf.Name()) != dir {
		t.Errorf("temporary file %s not beside %s", pf.Name(), p)
	}
	if _, err := pf.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("before Replace: %q", b)
	}
	if err := Replace(pf); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("after Replace: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestWriteFileOwner: run as root in a directory of the service user, the
// file is that user's; in root's own directory it stays root's.
func TestWriteFileOwner(t *testing.T) {
	testenv.Require(t, testenv.Root())
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(state, "positions.json")
	pf, err := NewPendingFile(p, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Cleanup()
	// Before the rename already: never root's under its own name.
	if u, g := ownerOf(t, pf.Name()); u != 65534 || g != 65534 {
		t.Errorf("temporary file is %d:%d", u, g)
	}
	if err := Replace(pf); err != nil {
		t.Fatal(err)
	}
	if u, g := ownerOf(t, p); u != 65534 || g != 65534 {
		t.Errorf("%s is %d:%d", p, u, g)
	}
	q := filepath.Join(dir, "ranges.json")
	if err := WriteFile(q, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if u, _ := ownerOf(t, q); u != 0 {
		t.Errorf("a file in root's directory became %d's", u)
	}
}
