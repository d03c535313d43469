package source

import (
	"bytes"
	"testing"
)

// FuzzSplit feeds data to the line splitter in chunks of a fuzzed size and
// checks: every line ends at a newline of the input, offsets increase,
// texts are the input between newlines (cut to maxLine and flagged when
// longer), and nothing after the last newline is delivered.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("line 1\nline 2\npartial"), 3, 8)
	f.Add([]byte("\n\n\n"), 1, 1)
	f.Add([]byte("abcdefghij\nk\n"), 4, 5)
	f.Fuzz(func(t *testing.T, data []byte, chunk, maxLine int) {
		chunk = 1 + abs(chunk)%64
		maxLine = 1 + abs(maxLine)%32
		r := &reader{maxLine: maxLine}
		var lines []Line
		for i := 0; i < len(data); i += chunk {
			r.batch = r.batch[:0]
			r.split(data[i:min(i+chunk, len(data))])
			lines = append(lines, r.batch...)
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
			t.Fatalf("last line ends at %d, want %d", prev, want)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
