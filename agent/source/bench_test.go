package source

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFileSource measures delivered lines per second: b.N lines of a
// typical access-log size are written to a file that appears after the
// source started (so it is read from offset 0), then consumed and
// committed. ns/op is per line.
func BenchmarkFileSource(b *testing.B) {
	dir := b.TempDir()
	path, sp := filepath.Join(dir, "access.log"), filepath.Join(dir, "positions.json")
	const line = "203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] \"GET /index.php?id=%08d HTTP/1.1\" 502 166 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n"
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	size := 0
	for i := range b.N {
		n, err := fmt.Fprintf(f, line, i)
		if err != nil {
			b.Fatal(err)
		}
		size += n
	}
	f.Close()

	tl := startTail(b, path, sp, testOptions())
	b.SetBytes(int64(size / max(b.N, 1)))
	b.ReportAllocs()
	b.ResetTimer()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		l := <-tl.src.Lines()
		tl.src.Commit(l)
	}
	b.StopTimer()
	tl.kill()
}

// BenchmarkCountLines measures numbering the lines of a file a first start
// reads from its end, at the largest size it counts (countLinesMax).
func BenchmarkCountLines(b *testing.B) {
	path := filepath.Join(b.TempDir(), "access.log")
	line := []byte("203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] \"GET /index.php HTTP/1.1\" 200 612 \"-\" \"Mozilla/5.0\"\n")
	data := make([]byte, 0, countLinesMax)
	for len(data)+len(line) <= countLinesMax {
		data = append(data, line...)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if n := countLines(f, int64(len(data))); n != int64(len(data)/len(line)) {
			b.Fatalf("counted %d lines", n)
		}
	}
}
