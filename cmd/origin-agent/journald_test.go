package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/origin-agent/origin-agent/agent/config"
)

// TestFindingsInJournal: under journald (JOURNAL_STREAM names the very
// stdout and stderr the process has) and with a stdout sink, the log line of
// a finding is dropped so that it is in the journal once; a stale
// JOURNAL_STREAM (inherited, or output redirected) or no stdout sink keeps it.
func TestFindingsInJournal(t *testing.T) {
	stream, err := os.Create(filepath.Join(t.TempDir(), "journal-stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	other, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(stream.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	devIno := fmt.Sprintf("%d:%d", uint64(st.Dev), st.Ino) //nolint:unconvert
	withStdout := config.Default()
	withStdout.Sinks = []config.Sink{config.DefaultSink("stdout"), config.DefaultSink("file")}
	fileOnly := config.Default()
	fileOnly.Sinks = []config.Sink{config.DefaultSink("file")}
	for _, c := range []struct {
		name           string
		env            string
		cfg            *config.Config
		stdout, stderr *os.File
		want           bool
	}{
		{"journald, stdout sink", devIno, withStdout, stream, stream, true},
		{"journald, no stdout sink", devIno, fileOnly, stream, stream, false},
		{"no journald", "", withStdout, stream, stream, false},
		{"stdout redirected", devIno, withStdout, other, stream, false},
		{"garbage JOURNAL_STREAM", "x:y", withStdout, stream, stream, false},
	} {
		t.Setenv("JOURNAL_STREAM", c.env)
		if got := findingsInJournal(c.cfg, c.stdout, c.stderr); got != c.want {
			t.Errorf("%s: findingsInJournal = %v, want %v", c.name, got, c.want)
		}
	}
}
