package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestManyFilesUnderLowFileLimit: a directory of 3,000 logs whose lines
// interleave in time is analysed by a process allowed 64 open files (run
// as a child with RLIMIT_NOFILE lowered): files are opened a few at a
// time, parked and opened again where they stopped, plain and .gz, small
// and large, and every line is read once.
func TestManyFilesUnderLowFileLimit(t *testing.T) {
	if dir := os.Getenv("ANALYZE_MANY_FILES_DIR"); dir != "" {
		var rl syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		rl.Cur = 64
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(3)
		}
		res, err := Run(context.Background(), Options{Args: []string{dir}})
		if err != nil {
			fmt.Println("run:", err)
			os.Exit(1)
		}
		var files, lines, bad int64
		for _, f := range res.Cases[0].Files {
			files++
			lines += f.Parsed
			if f.Error != "" || f.Skipped > 0 {
				bad++
				fmt.Println("file:", f.Path, f.Error, f.Skipped)
			}
		}
		gw := 0
		for _, inc := range res.Cases[0].Incidents {
			gw += inc.Gateways
		}
		fmt.Printf("files=%d lines=%d bad=%d incidents=%d gateways=%d\n", files, lines, bad, len(res.Cases[0].Incidents), gw)
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("-short: 3,000 files")
	}
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const files = 3000
	total := 0
	for i := 0; i < files; i++ {
		n := 20
		if i%600 == 0 {
			n = 2000 // larger than what a parked reader keeps
		}
		var b bytes.Buffer
		for j := 0; j < n; j++ {
			status := 200
			if j == n/2 && i%100 == 0 {
				status = 502
			}
			ts := t0.Add(time.Duration(j)*10*time.Second*20/time.Duration(n) + time.Duration(i)*time.Millisecond)
			fmt.Fprintf(&b, "198.51.100.%d - - [%s] \"GET /site-%d/page-%d HTTP/1.1\" %d 512 \"-\" \"%s\"\n",
				i%250, ts.Format("02/Jan/2006:15:04:05 -0700"), i, j, status, strings.Repeat("agent ", 10))
		}
		total += n
		name := filepath.Join(dir, fmt.Sprintf("site-%04d.access.log", i))
		data := b.Bytes()
		if i%7 == 0 {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(data)
			zw.Close()
			name, data = name+".1.gz", gz.Bytes()
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestManyFilesUnderLowFileLimit$")
	cmd.Env = append(os.Environ(), "ANALYZE_MANY_FILES_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := fmt.Sprintf("files=%d lines=%d bad=0 incidents=1 gateways=%d", files, total, files/100)
	if !strings.Contains(string(out), want) {
		t.Errorf("child under 64 open files:\n%s\nwant %s", out, want)
	}
}
