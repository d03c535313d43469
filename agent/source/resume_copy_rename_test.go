package source

import (
	"os"
	"slices"
	"testing"
	"time"
)

// TestCopytruncatedThenRenamedWhileDown: the saved generation was copied
// and truncated (copytruncate) before the last checkpoint, and its inode
// was then written again and renamed away while the agent was down (a
// host whose logrotate switched from copytruncate to create, or an agent
// whose checkpoint lags behind two rotations). The lines after the saved
// offset live on only in the copy, and what the inode holds now was never
// read: both must be read.
func TestCopytruncatedThenRenamedWhileDown(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 4)...)
	tl.texts(2) // lines 3 and 4 are read but not handled when the agent dies
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the copy's mtime before the checkpoint
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()

	time.Sleep(20 * time.Millisecond)
	appendFile(t, path, numbered(5, 6)...)
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(7, 7)...)

	tl = startTail(t, path, sp, testOptions())
	got := tl.texts(5)
	slices.Sort(got)
	if !slices.Equal(got, want(3, 7)) {
		t.Errorf("got %q, want lines 3..7", got)
	}
	tl.quiet()
}

// TestResumedGenerationsOldestFirst: generations read after a restart come
// oldest first, whatever their names sort as (access.log.10 before
// access.log.9), so the correlator gets lines in about the written order.
func TestResumedGenerationsOldestFirst(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 2)...)
	tl.texts(2)
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()
	if err := os.Rename(path, path+".8"); err != nil { // the saved generation
		t.Fatal(err)
	}
	for i, gen := range []string{".9", ".10"} { // two never seen
		time.Sleep(20 * time.Millisecond) // distinct mtimes, after the checkpoint
		appendFile(t, path, numbered(3+2*i, 4+2*i)...)
		if err := os.Rename(path, path+gen); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	appendFile(t, path, numbered(7, 7)...)

	tl = startTail(t, path, sp, testOptions())
	if got := tl.texts(5); !slices.Equal(got, want(3, 7)) {
		t.Errorf("got %q, want lines 3..7 in order", got)
	}
	tl.quiet()
}
