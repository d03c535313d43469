package source

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// tail is one running FileSource in a test.
type tail struct {
	t      testing.TB
	src    *FileSource
	store  *positions.Store
	cancel context.CancelFunc
	done   chan error
}

func testOptions() Options {
	return Options{
		PollInterval:  10 * time.Millisecond,
		RetryInterval: 20 * time.Millisecond,
		RotatedIdle:   200 * time.Millisecond,
		Log:           testLogger(),
	}
}

// startTail opens the store at storePath (as a restarted agent would) and
// runs a source on path.
func startTail(t testing.TB, path, storePath string, opt Options) *tail {
	t.Helper()
	store, err := positions.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewFile(path, store, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tail{t: t, src: src, store: store, cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- src.Run(ctx) }()
	<-src.ready // the test's writes come after the start positions were chosen
	t.Cleanup(tl.kill)
	return tl
}

// next returns the next line, committing it. It fails the test if none
// comes within a generous bound (a hang, not a timing assertion).
func (tl *tail) next() Line {
	tl.t.Helper()
	select {
	case l, ok := <-tl.src.Lines():
		if !ok {
			tl.t.Fatal("Lines closed")
		}
		tl.src.Commit(l)
		return l
	case <-time.After(20 * time.Second):
		tl.t.Fatal("no line within 20s")
	}
	return Line{}
}

// texts reads n lines and returns their texts.
func (tl *tail) texts(n int) []string {
	tl.t.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = string(tl.next().Text)
	}
	return out
}

// quiet asserts that no line arrives while the source polls a few times.
func (tl *tail) quiet() {
	tl.t.Helper()
	select {
	case l := <-tl.src.Lines():
		tl.t.Fatalf("unexpected line %q", l.Text)
	case <-time.After(150 * time.Millisecond):
	}
}

// kill cancels without syncing the store (like SIGKILL).
func (tl *tail) kill() {
	tl.cancel()
	if err := <-tl.done; err != nil {
		tl.t.Errorf("Run = %v", err)
	}
	tl.done <- nil // kill is idempotent
}

func appendFile(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("line %d\n", i))
	}
	return out
}

func want(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}

func setup(t testing.TB) (path, storePath string) {
	dir := t.TempDir()
	return filepath.Join(dir, "access.log"), filepath.Join(dir, "positions.json")
}

// testLogger discards, or logs at debug level to stderr with
// ORIGIN_AGENT_TEST_DEBUG=1.
func testLogger() *slog.Logger {
	if os.Getenv("ORIGIN_AGENT_TEST_DEBUG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
