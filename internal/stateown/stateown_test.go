package stateown

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func ownerOf(t *testing.T, p string) (uint32, uint32) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return s.Uid, s.Gid
}

func TestPathAndRepair(t *testing.T) {
	testenv.Require(t, testenv.Root())
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	// A root-owned directory: nothing changes.
	f := filepath.Join(dir, "root-file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Path(f); err != nil {
		t.Fatal(err)
	}
	if u, _ := ownerOf(t, f); u != 0 {
		t.Errorf("a file in root's directory became %d's", u)
	}

	if err := os.Chown(state, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(state, "positions.json")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Path(p); err != nil {
		t.Fatal(err)
	}
	if u, g := ownerOf(t, p); u != 65534 || g != 65534 {
		t.Errorf("Path: %d:%d", u, g)
	}

	// Leftovers of a root run, nested, are given back.
	sub := filepath.Join(state, "spool", "x")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(sub, "spool.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Repair(state); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{filepath.Join(state, "spool"), sub, db} {
		if u, g := ownerOf(t, q); u != 65534 || g != 65534 {
			t.Errorf("Repair: %s is %d:%d", q, u, g)
		}
	}

	// Not root: nothing at all.
	euid = func() int { return 1000 }
	defer func() { euid = os.Geteuid }()
	if err := os.Chown(db, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := Repair(state); err != nil || func() bool { u, _ := ownerOf(t, db); return u != 0 }() {
		t.Error("Repair changed owners while not root")
	}
}
