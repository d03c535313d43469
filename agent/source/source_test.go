package source

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

func TestFirstStartReadsFromEnd(t *testing.T) {
	path, sp := setup(t)
	appendFile(t, path, numbered(1, 5)...)
	tl := startTail(t, path, sp, testOptions())
	tl.quiet()
	appendFile(t, path, numbered(6, 8)...)
	if got := tl.texts(3); !slices.Equal(got, want(6, 8)) {
		t.Errorf("got %q, want lines 6..8", got)
	}
}

func TestMissingFileIsWaitedForAndReadFromStart(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	tl.quiet()
	appendFile(t, path, numbered(1, 3)...)
	if got := tl.texts(3); !slices.Equal(got, want(1, 3)) {
		t.Errorf("got %q, want lines 1..3", got)
	}
}

func TestRestartResumesFromSavedPosition(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 4)...)
	last := tl.next()
	if string(last.Text) != "line 1" || last.Offset != int64(len("line 1\n")) {
		t.Fatalf("first line %q at %d", last.Text, last.Offset)
	}
	tl.next() // line 2, committed
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()

	appendFile(t, path, numbered(5, 6)...)
	tl = startTail(t, path, sp, testOptions())
	if got := tl.texts(4); !slices.Equal(got, want(3, 6)) {
		t.Errorf("after restart got %q, want lines 3..6", got)
	}
}

func TestFileReplacedWhileDownIsReadFromStart(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 2)...)
	tl.texts(2)
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()

	// Same inode, other content (truncated and rewritten) …
	if err := os.WriteFile(path, []byte("other 1\nother 2\nother 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tl = startTail(t, path, sp, testOptions())
	if got := tl.texts(3); !slices.Equal(got, []string{"other 1", "other 2", "other 3"}) {
		t.Errorf("got %q, want the new content from its start", got)
	}
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()

	// … and a new inode.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "new 1\n")
	tl = startTail(t, path, sp, testOptions())
	if got := tl.texts(1); got[0] != "new 1" {
		t.Errorf("got %q, want the new file from its start", got)
	}
}

func TestRenameRotationDrainsOldFile(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString("line 1\nline 2\n")
	tl.texts(2)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(100, 101)...) // the new file appears …
	time.Sleep(50 * time.Millisecond)          // … and is noticed …
	w.WriteString("line 3\nline 4\n")          // … while the writer still writes the old one
	got := tl.texts(4)
	slices.Sort(got)
	if !slices.Equal(got, []string{"line 100", "line 101", "line 3", "line 4"}) {
		t.Errorf("got %q, want old lines 3,4 and new 100,101", got)
	}
}

func TestCopytruncateRegrownBeforeCheck(t *testing.T) {
	path, sp := setup(t)
	opt := testOptions()
	opt.PollInterval = 300 * time.Millisecond // all of it happens between two checks
	tl := startTail(t, path, sp, opt)
	appendFile(t, path, numbered(1, 2)...)
	tl.texts(2)

	// Written, copied and truncated, then regrown past the old size,
	// all before the source looks again.
	appendFile(t, path, numbered(3, 5)...)
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
	appendFile(t, path, "after truncation, a much longer line 6\n", "after truncation, line 7\n")

	got := tl.texts(5)
	wantLines := append(want(3, 5), "after truncation, a much longer line 6", "after truncation, line 7")
	if !slices.Equal(got, wantLines) {
		t.Errorf("got %q,\nwant %q", got, wantLines)
	}
	tl.quiet()
}

func TestPartialLineWaitsForNewline(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, "GET /a HTTP/1.1\" 50")
	tl.quiet()
	appendFile(t, path, "2 0\n")
	l := tl.next()
	if string(l.Text) != `GET /a HTTP/1.1" 502 0` || l.Offset != int64(len(`GET /a HTTP/1.1" 502 0`)+1) {
		t.Errorf("got %q at %d", l.Text, l.Offset)
	}
}

func TestLongLineIsCutAndFlagged(t *testing.T) {
	path, sp := setup(t)
	opt := testOptions()
	opt.MaxLineSize = 100
	tl := startTail(t, path, sp, opt)
	long := strings.Repeat("x", 250_000)
	appendFile(t, path, long+"\n", "short\n", strings.Repeat("y", 100)+"\n")
	tests := []struct {
		text   string
		cut    bool
		offset int64
	}{
		{strings.Repeat("x", 100), true, 250_001},
		{"short", false, 250_007},
		{strings.Repeat("y", 100), false, 250_108},
	}
	for _, tt := range tests {
		l := tl.next()
		if string(l.Text) != tt.text || l.Cut != tt.cut || l.Offset != tt.offset {
			t.Errorf("got %.20q… (len %d) cut=%v offset=%d; want len %d cut=%v offset=%d",
				l.Text, len(l.Text), l.Cut, l.Offset, len(tt.text), tt.cut, tt.offset)
		}
	}
}

func TestUnreadablePathIsRetried(t *testing.T) {
	path, sp := setup(t)
	if err := os.Mkdir(path, 0o755); err != nil { // not a file: open fails
		t.Fatal(err)
	}
	tl := startTail(t, path, sp, testOptions())
	tl.quiet()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(1, 1)...)
	if got := tl.texts(1); got[0] != "line 1" {
		t.Errorf("got %q", got)
	}
}

func TestStopNeverHangsWithoutReader(t *testing.T) {
	path, sp := setup(t)
	opt := testOptions()
	opt.Buffer = 1
	tl := startTail(t, path, sp, opt)
	appendFile(t, path, numbered(1, 1000)...)
	time.Sleep(50 * time.Millisecond) // let Run block on a full channel
	tl.kill()
	for range tl.src.Lines() { // closed by Run
	}
}

func TestCommitKeepsOneEntryPerFile(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, "a\n")
	tl.next()
	appendFile(t, path, strings.Repeat("b", 2000)+"\n") // fingerprint grows
	tl.next()
	if got := tl.store.Find(path); len(got) != 1 || got[0].Offset != 2003 || got[0].FP.Len != 1024 {
		t.Errorf("entries %+v, want one at 2003 with a 1024-byte fingerprint", got)
	}
}

func TestRotatedGenerationResumedAfterRestart(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 2)...)
	tl.texts(1)
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()
	// Rotated and written while the agent was down.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", numbered(3, 3)...)
	appendFile(t, path, numbered(4, 5)...)
	tl = startTail(t, path, sp, testOptions())
	got := tl.texts(4)
	slices.Sort(got)
	if !slices.Equal(got, want(2, 5)) {
		t.Errorf("got %q, want lines 2..5", got)
	}
	tl.quiet()
}

func TestUnseenGenerationRotatedWhileDown(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 2)...)
	tl.texts(2)
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	// Renamed, and the new file written, just before the agent dies,
	// without a checkpoint that knows the new file …
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(3, 4)...)
	tl.kill()
	time.Sleep(20 * time.Millisecond) // mtimes after the checkpoint
	// … which is then copied and truncated while the agent is down.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".2", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(5, 5)...)

	tl = startTail(t, path, sp, testOptions())
	got := tl.texts(3)
	slices.Sort(got)
	if !slices.Equal(got, want(3, 5)) {
		t.Errorf("got %q, want lines 3..5", got)
	}
	tl.quiet()
}

// TestFingerprintCoversOnlyWhatWasRead: the fingerprint grows with the
// lines read, never over bytes beyond them. Under load a prefix read
// racing a copytruncate returned the old first page up to the new size;
// a fingerprint over those bytes matched neither the new content nor the
// copy, and lines 3-5 of TestCopytruncateRegrownBeforeCheck were lost
// (2 runs in 3×150 under -race with the machine busy).
func TestFingerprintCoversOnlyWhatWasRead(t *testing.T) {
	path, _ := setup(t)
	appendFile(t, path, numbered(1, 1)...)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newReader(f, path, positions.Key{Path: path}, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if r.key.FP, err = r.prefixFingerprint(); err != nil || r.key.FP.Len != 7 {
		t.Fatalf("fingerprint at open: %+v, %v", r.key.FP, err)
	}
	appendFile(t, path, numbered(2, 2)...)
	if _, err := r.read(readBudget); err != nil || r.off != 14 {
		t.Fatalf("read: off %d, err %v", r.off, err)
	}
	appendFile(t, path, "not read yet\n")
	ok, err := r.verify()
	if err != nil || !ok {
		t.Fatalf("verify = %v, %v", ok, err)
	}
	if want := positions.FingerprintOf([]byte("line 1\nline 2\n")); r.key.FP != want {
		t.Errorf("fingerprint over %d bytes, want the %d read", r.key.FP.Len, want.Len)
	}
}
