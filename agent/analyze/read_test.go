package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLineReader: lines across chunk boundaries, CRLF, a last line without
// newline, an over-long line cut and flagged, and gzip all come out whole.
func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxLine+500)
	edge := strings.Repeat("y", chunkSize-3) // ends right around a chunk boundary
	lines := []string{"first", "crlf\r", edge, "after-edge", long, "after-long", strings.Repeat("z", MaxLine-10), "last-no-newline"}
	content := strings.Join(lines, "\n")
	want := []string{"first", "crlf", edge, "after-edge", long[:MaxLine], "after-long", strings.Repeat("z", MaxLine-10), "last-no-newline"}
	wantLong := []bool{false, false, false, false, true, false, false, false}

	dir := t.TempDir()
	plain := filepath.Join(dir, "a.log")
	if err := os.WriteFile(plain, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(content))
	zw.Close()
	gzPath := filepath.Join(dir, "a.log.1.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, gzPath} {
		lr, err := openLines(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			got, err := lr.next()
			if err != nil {
				t.Fatalf("%s line %d: %v", p, i+1, err)
			}
			if string(got) != w || lr.tooLong != wantLong[i] {
				t.Fatalf("%s line %d: got %d bytes (tooLong %v), want %d (%v)", p, i+1, len(got), lr.tooLong, len(w), wantLong[i])
			}
		}
		if _, err := lr.next(); err != io.EOF {
			t.Fatalf("%s: want EOF, got %v", p, err)
		}
		if lr.n != int64(len(want)) {
			t.Errorf("%s: counted %d lines", p, lr.n)
		}
		lr.Close()
	}
}

func TestLineReaderCloseEarly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.log")
	os.WriteFile(p, bytes.Repeat([]byte("line\n"), 3*chunkSize), 0o644)
	lr, err := openLines(p)
	if err != nil {
		t.Fatal(err)
	}
	lr.next()
	if err := lr.Close(); err != nil { // must not hang with chunks still in flight
		t.Fatal(err)
	}
}

func TestBadGzip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.log.gz")
	os.WriteFile(p, []byte("not gzip at all\n"), 0o644)
	if _, err := openLines(p); err == nil || !strings.Contains(err.Error(), "x.log.gz") {
		t.Fatalf("want an error naming the file, got %v", err)
	}
}

// TestTruncatedGzip: a .gz cut short is not read as complete. The lines
// before the cut count, and the file's report says where it ended and why.
func TestTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	var plain bytes.Buffer
	const n = 20000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&plain, "198.51.100.%d - - [20/Nov/2026:10:%02d:%02d +0000] \"GET /p/%d HTTP/1.1\" 200 512 \"-\" \"curl/8.4.0\"\n", i%250, i/60%60, i%60, i)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	p := filepath.Join(dir, "access.log.2.gz")
	if err := os.WriteFile(p, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Args: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Cases[0].Files[0]
	if f.Lines == 0 || f.Lines >= n || f.Parsed < f.Lines-1 {
		t.Errorf("read %d lines (%d parsed) of a file cut in half of %d", f.Lines, f.Parsed, n)
	}
	if !strings.Contains(f.Error, "truncated") || !strings.Contains(f.Error, fmt.Sprintf("after line %d", f.Lines)) {
		t.Errorf("file error %q, want where and why it ended", f.Error)
	}

	// Whole, the same file reads without error.
	if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = Run(context.Background(), Options{Args: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Cases[0].Files[0]; f.Lines != n || f.Error != "" {
		t.Errorf("whole file: %d lines, error %q", f.Lines, f.Error)
	}
}

// TestLineReaderPark: parked after any line (its file closed, a little
// kept) and read on, a reader yields exactly the lines of one that never
// parked, plain and gzipped, long lines across chunks included.
func TestLineReaderPark(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 3*chunkSize; i++ {
		switch {
		case i%997 == 0:
			b.WriteString(strings.Repeat("L", chunkSize/3+i))
		case i%13 == 0:
			b.WriteString("")
		default:
			fmt.Fprintf(&b, "line %d %s", i, strings.Repeat("x", i%300))
		}
		b.WriteString("\n")
	}
	b.WriteString("last-no-newline")
	content := b.String()
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.log")
	os.WriteFile(plain, []byte(content), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(content))
	zw.Close()
	gzPath := filepath.Join(dir, "a.log.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	want := strings.Split(content, "\n")
	for _, p := range []string{plain, gzPath} {
		for _, every := range []int{1, 7, 500} {
			lr, err := openLines(p)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				if i%every == 0 {
					lr.park()
				}
				got, err := lr.next()
				if err != nil || string(got) != w {
					t.Fatalf("%s parked every %d: line %d: %d bytes, %v; want %d bytes", p, every, i+1, len(got), err, len(w))
				}
			}
			if _, err := lr.next(); err != io.EOF {
				t.Fatalf("%s: want EOF, got %v", p, err)
			}
			lr.Close()
		}
	}
}
