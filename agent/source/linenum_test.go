package source

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// numbered reads and commits n lines.
func (tl *tail) numbered(n int) []Line {
	tl.t.Helper()
	out := make([]Line, n)
	for i := range out {
		out[i] = tl.next()
	}
	return out
}

func checkNums(t *testing.T, what string, got []Line, firstNum int64, firstStart int64) {
	t.Helper()
	num, start := firstNum, firstStart
	for _, l := range got {
		if l.Num != num || l.Start != start {
			t.Errorf("%s: %q is line %d at %d, want line %d at %d", what, l.Text, l.Num, l.Start, num, start)
		}
		if num > 0 {
			num++
		}
		start = l.Offset
	}
}

// TestLineNumbers: lines carry their 1-based number in their file, counted
// from its start, through rename and copytruncate rotation (a fresh file
// starts at 1 again) and across a restart (the checkpoint keeps the count).
func TestLineNumbers(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 3)...) // appears after the start: read from 0
	checkNums(t, "new file", tl.numbered(3), 1, 0)

	// Rename rotation: the fresh file is numbered from 1.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(4, 5)...)
	checkNums(t, "after rename rotation", tl.numbered(2), 1, 0)

	// Copytruncate: numbered from 1 again.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	appendFile(t, path, numbered(6, 6)...)
	checkNums(t, "after copytruncate", tl.numbered(1), 1, 0)
	appendFile(t, path, numbered(7, 8)...)
	got := tl.numbered(2)
	checkNums(t, "growing", got, 2, int64(len("line 6\n")))

	// Restart: the count comes back with the offset.
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()
	appendFile(t, path, numbered(9, 10)...)
	tl = startTail(t, path, sp, testOptions())
	checkNums(t, "after restart", tl.numbered(2), 4, got[1].Offset)
}

// TestLineNumbersFirstStart: a first start reads from the end of a file
// but still numbers its lines (the lines before the end are counted).
func TestLineNumbersFirstStart(t *testing.T) {
	path, sp := setup(t)
	appendFile(t, path, numbered(1, 5)...)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(6, 7)...)
	checkNums(t, "first start", tl.numbered(2), 6, int64(len("line 1\n")*5))
}

// TestLineNumbersUnknown: a checkpoint without a line count (written by an
// earlier version) resumes mid-file without numbers: Num is 0 and Start
// gives the byte offset, never an offset posing as a line number.
func TestLineNumbersUnknown(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 3)...)
	got := tl.numbered(3)
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()
	var doc map[string]any
	data, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range doc["positions"].([]any) {
		e := p.(map[string]any)
		if e["lines"] != nil {
			n++
		}
		delete(e, "lines")
	}
	if n == 0 {
		t.Fatalf("the checkpoint holds no line count: %s", data)
	}
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(sp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(4, 5)...)
	tl = startTail(t, path, sp, testOptions())
	checkNums(t, "resumed without a count", tl.numbered(2), 0, got[2].Offset)
}
