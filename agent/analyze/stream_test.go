package analyze

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigLog is an access log of n lines (~170 bytes each) with a burst of
// 502s in its first lines: a reader that sampled the start and then opened
// the input again would lose the burst.
func bigLog(n int) []byte {
	var b strings.Builder
	t := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		status := 200
		if i >= 100 && i < 110 {
			status = 502
		}
		fmt.Fprintf(&b, "198.51.100.%d - - [%s] \"GET /products/item-%06d HTTP/1.1\" %d 1534 \"https://shop.example/\" \"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\"\n",
			i%250, t.Add(time.Duration(i)*10*time.Millisecond).Format("02/Jan/2006:15:04:05 -0700"), i, status)
	}
	return []byte(b.String())
}

func checkWhole(t *testing.T, res *Result, name string, n int) {
	t.Helper()
	f := res.Cases[0].Files[0]
	if f.Path != name || f.Lines != int64(n) || f.Parsed != int64(n) {
		t.Errorf("%s: read %+v, want all %d lines", name, f, n)
	}
	if incs := res.Cases[0].Incidents; len(incs) != 1 || incs[0].Gateways != 10 {
		t.Errorf("want the burst of 10 502s at the start, got %+v", incs)
	}
}

// TestNamedPipeReadOnce: a named pipe is read once, whole (more than the
// 5 MiB a reader runs ahead), its first lines included.
func TestNamedPipeReadOnce(t *testing.T) {
	const n = 60000
	data := bigLog(n)
	p := filepath.Join(t.TempDir(), "access.log")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(data)
		w.Close()
	}()
	res, err := Run(context.Background(), Options{Args: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	checkWhole(t, res, p, n)
}

// TestProcessSubstitution: `analyze <(cat access.log)` passes /dev/fd/N,
// a pipe; it is read once and whole.
func TestProcessSubstitution(t *testing.T) {
	const n = 60000
	data := bigLog(n)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write(data)
		w.Close()
	}()
	name := fmt.Sprintf("/dev/fd/%d", r.Fd())
	res, err := Run(context.Background(), Options{Args: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	checkWhole(t, res, name, n)
}

// TestNamedPipeWithoutWriterEndsOnCancel: a named pipe nobody writes to
// does not hold analyze forever: cancelling (SIGTERM in the command) ends
// the wait.
func TestNamedPipeWithoutWriterEndsOnCancel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "access.log")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, stage := range []string{"open", "read"} {
		ctx, cancel := context.WithCancel(context.Background())
		if stage == "read" {
			// A writer that opens the pipe and then writes nothing.
			go func() {
				w, err := os.OpenFile(p, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				<-ctx.Done()
				time.Sleep(100 * time.Millisecond)
				w.Close()
			}()
		}
		done := make(chan error, 1)
		go func() {
			_, err := Run(ctx, Options{Args: []string{p}})
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Run = %v, want context.Canceled", stage, err)
			}
		case <-time.After(30 * time.Second): // a hang, not a timing assertion
			t.Fatalf("%s: Run still waiting on the pipe after cancel", stage)
		}
	}
}

// TestDirectorySkipsPipesAndSaysSo: a named pipe in a directory is not
// opened (it could block), and the log says why it was left out.
func TestDirectorySkipsPipesAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "access.log"), bigLog(200), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.log"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var logged []string
	res, err := Run(context.Background(), Options{Args: []string{dir}, Log: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cases[0].Files) != 1 || !strings.Contains(strings.Join(logged, "\n"), "pipe.log: not a regular file") {
		t.Errorf("files %+v, log %q", res.Cases[0].Files, logged)
	}
}

// TestCancelledRunStops: a cancelled analysis (SIGTERM) returns with the
// context's error and, like a finished one, leaves no file open.
func TestCancelledRunStops(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 50; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("site-%02d.access.log", i)), bigLog(300), 0o644)
	}
	fds := func() int {
		e, _ := os.ReadDir("/proc/self/fd")
		return len(e)
	}
	before := fds()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Args: []string{dir}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if _, err := Run(context.Background(), Options{Args: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	if after := fds(); after > before {
		t.Errorf("%d files open before, %d after", before, after)
	}
}
