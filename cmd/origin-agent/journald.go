package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/origin-agent/origin-agent/agent/config"
)

// connectedToJournal reports whether w is the stream systemd connected to
// journald, as systemd.exec(5) says to find out: JOURNAL_STREAM holds
// "DEVICE:INODE" of that stream, and only a file descriptor with the same
// device and inode is still it (a service whose output was redirected, or a
// child that inherited the variable, has other ones). INVOCATION_ID alone
// says that systemd started the process, not where its output goes
// (StandardOutput=null, file:…), so it does not decide.
func connectedToJournal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	dev, ino, ok := parseJournalStream(os.Getenv("JOURNAL_STREAM"))
	if !ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return uint64(st.Dev) == dev && st.Ino == ino //nolint:unconvert // Dev's type differs by platform
}

func parseJournalStream(v string) (dev, ino uint64, ok bool) {
	d, i, found := strings.Cut(v, ":")
	if !found {
		return 0, 0, false
	}
	dev, err1 := strconv.ParseUint(d, 10, 64)
	ino, err2 := strconv.ParseUint(i, 10, 64)
	return dev, ino, err1 == nil && err2 == nil
}

// findingsInJournal reports whether each finding would reach the journal
// twice: as a stdout sink's JSON line and as the log's "finding" line on
// stderr. The JSON line is kept then and the log line drops to debug: it is
// the whole finding (evidence, fix, id) that journal readers and
// forwarders (journalctl -o json, rsyslog imjournal, promtail) parse by its
// schema, while the log line is only its summary. Without a stdout sink
// the log line stays, so every finding is in the journal once either way.
func findingsInJournal(cfg *config.Config, stdout, stderr io.Writer) bool {
	stdoutSink := false
	for _, s := range cfg.Sinks {
		if s.Type == "stdout" {
			stdoutSink = true
		}
	}
	return stdoutSink && connectedToJournal(stdout) && connectedToJournal(stderr)
}
