package source

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// TestCorruptPositionsReadFromStart: when the positions file is corrupt,
// the lines written while the agent was down are read, not skipped by a
// start at the end of the file: the file is read from its start (lines
// already handled come again; findings carry the same ids).
func TestCorruptPositionsReadFromStart(t *testing.T) {
	path, sp := setup(t)
	tl := startTail(t, path, sp, testOptions())
	appendFile(t, path, numbered(1, 4)...)
	tl.texts(4)
	if err := tl.store.Sync(); err != nil {
		t.Fatal(err)
	}
	tl.kill()

	appendFile(t, path, numbered(5, 6)...) // while down
	if err := os.WriteFile(sp, []byte(`{"version":1,"positions":[{"path":`), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := positions.Open(sp)
	if !errors.Is(err, positions.ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	src, err := NewFile(path, store, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl = &tail{t: t, src: src, store: store, cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- src.Run(ctx) }()
	<-src.ready
	t.Cleanup(tl.kill)
	if got := tl.texts(6); !slices.Equal(got, want(1, 6)) {
		t.Errorf("after a corrupt positions file got %q, want lines 1..6", got)
	}
}
