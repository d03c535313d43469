package source

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// FuzzRead writes data to a file in two parts and reads it with a reader
// (nxadm/tail underneath) in passes of a fuzzed budget, the second part
// appended between passes. It checks: every line ends at a newline of the
// input, offsets increase, texts are the input between newlines (cut to
// maxLine and flagged when longer), and nothing after the last newline is
// delivered.
func FuzzRead(f *testing.F) {
	f.Add([]byte("line 1\nline 2\npartial"), 3, 8, 10)
	f.Add([]byte("\n\n\n"), 1, 1, 1)
	f.Add([]byte("abcdefghij\nk\n"), 4, 5, 6)
	f.Add([]byte("a\r\nb\r\n\x00\xff\n"), 2, 3, 2)
	f.Fuzz(func(t *testing.T, data []byte, budget, maxLine, split int) {
		budget = 1 + abs(budget)%64
		maxLine = 1 + abs(maxLine)%32
		split = abs(split) % (len(data) + 1)
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, data[:split], 0o644); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := newReader(fh, path, positions.Key{Path: path}, 0, maxLine)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		var lines []Line
		appended := false
		for pass := 0; pass < 2*len(data)+4; pass++ {
			n, err := r.read(budget)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, r.batch...)
			r.sent = r.off
			if n == 0 && r.t == nil {
				if appended {
					break
				}
				w, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(data[split:])
				w.Close()
				appended = true
			}
		}
		prev := int64(0)
		for _, l := range lines {
			if l.Offset <= prev || l.Offset > int64(len(data)) || data[l.Offset-1] != '\n' {
				t.Fatalf("offset %d after %d is not just after a newline", l.Offset, prev)
			}
			full := data[prev : l.Offset-1]
			if bytes.IndexByte(full, '\n') >= 0 {
				t.Fatalf("line %q spans a newline", full)
			}
			wantText, wantCut := full, false
			if len(full) > maxLine {
				wantText, wantCut = full[:maxLine], true
			}
			if !bytes.Equal(l.Text, wantText) || l.Cut != wantCut {
				t.Fatalf("line at %d: %q cut=%v, want %q cut=%v", l.Offset, l.Text, l.Cut, wantText, wantCut)
			}
			prev = l.Offset
		}
		if want := int64(bytes.LastIndexByte(data, '\n') + 1); prev != want {
			t.Fatalf("last line ends at %d, want %d (%d lines)", prev, want, len(lines))
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
