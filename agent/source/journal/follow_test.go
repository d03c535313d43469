package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeJournalctl points the fake journalctl at the fixture and returns the
// file where it records the arguments of each run.
func fakeJournalctl(t *testing.T) (argsFile string) {
	t.Helper()
	argsFile = filepath.Join(t.TempDir(), "args")
	fixture, _ := filepath.Abs("testdata/kernel.json")
	t.Setenv("FAKE_ARGS", argsFile)
	t.Setenv("FAKE_FIXTURE", fixture)
	return argsFile
}

// follow runs f until it has sent n entries, then cancels it and returns
// the entries and Run's error.
func follow(t *testing.T, f *Follower, n int) ([]Entry, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Entry)
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, out) }()
	var got []Entry
	for len(got) < n {
		select {
		case e := <-out:
			got = append(got, e)
		case err := <-done:
			t.Fatalf("Run returned %v after %d entries", err, len(got))
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d entries", len(got), n)
		}
	}
	cancel()
	return got, <-done
}

// The fake journalctl prints two entries, a bad line and exits 1 when
// started without a cursor; started again after the second entry's cursor
// it prints the remaining two and keeps following.
func TestFollowRestartsAfterCursor(t *testing.T) {
	argsFile := fakeJournalctl(t)
	cursorFile := filepath.Join(t.TempDir(), "kernel.cursor")

	f, err := New(Options{
		Command:      []string{"/bin/sh", "testdata/fake-journalctl.sh"},
		CursorFile:   cursorFile,
		RestartDelay: 10 * time.Millisecond,
		Log:          quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := follow(t, f, 4)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want context.Canceled", err)
	}
	for i, want := range []string{"php-fpm8.2 invoked oom-killer", "oom-kill:constraint", "Memory cgroup out of memory", "php-fpm8.2[7012]: segfault"} {
		if !strings.HasPrefix(string(got[i].Message), want) {
			t.Fatalf("entry %d = %q; want %q...", i, got[i].Message, want)
		}
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := "-k -f -o json --all --no-pager --lines=0\n" +
		"-k -f -o json --all --no-pager --after-cursor=" + got[1].Cursor + "\n"
	if string(args) != wantArgs {
		t.Fatalf("journalctl runs:\n%s\nwant:\n%s", args, wantArgs)
	}
	saved, err := os.ReadFile(cursorFile)
	if want := got[3].Cursor + "\n" + got[3].Time.UTC().Format(time.RFC3339Nano) + "\n"; err != nil || string(saved) != want {
		t.Fatalf("cursor file = %q, %v; want %q", saved, err, want)
	}
	if st, err := os.Stat(cursorFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cursor file mode %v, %v", st.Mode(), err)
	}

	// A new follower resumes from the saved cursor.
	f2, err := New(Options{CursorFile: cursorFile})
	if err != nil || f2.Cursor() != got[3].Cursor {
		t.Fatalf("resumed cursor = %q, %v", f2.Cursor(), err)
	}
}

func TestFollowUnavailable(t *testing.T) {
	f, err := New(Options{Command: []string{"/nonexistent/journalctl"}, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Run(context.Background(), make(chan Entry))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Run = %v; want ErrUnavailable", err)
	}
}

// A consumer that stops reading must not block cancellation.
func TestFollowCancelWhileSending(t *testing.T) {
	fakeJournalctl(t)
	f, err := New(Options{Command: []string{"/bin/sh", "testdata/fake-journalctl.sh"}, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, make(chan Entry)) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if f.Cursor() != "" {
		t.Fatalf("cursor advanced to %q without a send", f.Cursor())
	}
}

// A follower resuming with Replay starts that long before the saved
// cursor's entry (the kernel lines that explain what the agent re-reads),
// and only the first time: a journalctl restart resumes after the cursor.
func TestFollowReplaysBeforeTheCursor(t *testing.T) {
	argsFile := fakeJournalctl(t)
	cursorFile := filepath.Join(t.TempDir(), "kernel.cursor")
	at := time.Date(2026, 11, 21, 10, 5, 50, 500000000, time.UTC)
	if err := os.WriteFile(cursorFile, []byte("s=1;i=4b7\n"+at.Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := New(Options{
		Command:      []string{"/bin/sh", "testdata/fake-journalctl.sh"},
		CursorFile:   cursorFile,
		Replay:       2 * time.Minute,
		RestartDelay: 10 * time.Millisecond,
		Log:          quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := follow(t, f, 4)
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := fmt.Sprintf("-k -f -o json --all --no-pager --since=@%d\n", at.Add(-2*time.Minute).Unix()) +
		"-k -f -o json --all --no-pager --after-cursor=" + got[1].Cursor + "\n"
	if string(args) != wantArgs {
		t.Fatalf("journalctl runs:\n%s\nwant:\n%s", args, wantArgs)
	}
}

// A cursor file from before the time line was added resumes after the
// cursor, without replay.
func TestFollowOldCursorFile(t *testing.T) {
	argsFile := fakeJournalctl(t)
	cursorFile := filepath.Join(t.TempDir(), "kernel.cursor")
	if err := os.WriteFile(cursorFile, []byte("s=1;i=4b7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := New(Options{
		Command:    []string{"/bin/sh", "testdata/fake-journalctl.sh"},
		CursorFile: cursorFile,
		Replay:     time.Minute,
		Log:        quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, f, 2)
	args, err := os.ReadFile(argsFile)
	if want := "-k -f -o json --all --no-pager --after-cursor=s=1;i=4b7\n"; err != nil || string(args) != want {
		t.Fatalf("journalctl runs:\n%s\nwant:\n%s", args, want)
	}
}
