package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// journalExport is the kernel's part of a systemd journal, written to a
// temporary file so that analyze reads it like any other kernel log.
type journalExport struct {
	path  string // the temporary file
	label string // how reports name it: the command that produced it
	lines int
}

// exportJournalKernel runs journalctl for the kernel's messages of every
// boot (or of [since, until]) and writes them, in the short-iso-precise
// format the kernel parser reads, to a file in a new temporary directory.
// dir, when not empty, is a journal directory to read instead of the
// host's (a copy of another host's /var/log/journal). The caller removes
// filepath.Dir(path).
//
// On hosts without rsyslog (Debian 12's default) there is no kern.log:
// the journal is the only record of OOM kills and segfaults.
func exportJournalKernel(ctx context.Context, dir string, since, until time.Time) (*journalExport, error) {
	bin, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, fmt.Errorf("--journal: journalctl not found (it comes with systemd): %w", err)
	}
	// _TRANSPORT=kernel rather than -k: -k means this boot only, and the
	// OOM kill behind an incident may be from before a reboot.
	args := []string{"_TRANSPORT=kernel", "-o", "short-iso-precise", "--no-pager", "-q"}
	label := "journalctl _TRANSPORT=kernel"
	if dir != "" {
		args = append(args, "--directory="+dir)
		label = "journalctl --directory=" + dir + " _TRANSPORT=kernel"
	}
	if !since.IsZero() {
		args = append(args, "--since=@"+strconv.FormatInt(since.Unix(), 10))
	}
	if !until.IsZero() {
		args = append(args, "--until=@"+strconv.FormatInt(until.Unix()+1, 10))
	}
	tmp, err := os.MkdirTemp("", "origin-agent-journal-")
	if err != nil {
		return nil, err
	}
	out := &journalExport{path: tmp + "/kernel.log", label: label}
	f, err := os.OpenFile(out.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("--journal: %w", err)
	}
	copyErr := copyJournalLines(f, stdout, &out.lines)
	waitErr := cmd.Wait()
	if err := f.Close(); err != nil && copyErr == nil {
		copyErr = err
	}
	switch {
	case waitErr != nil:
		os.RemoveAll(tmp)
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = waitErr.Error()
		}
		return nil, fmt.Errorf("--journal: %s: %s", label, firstLine(msg))
	case copyErr != nil:
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("--journal: writing %s: %w", out.path, copyErr)
	}
	return out, nil
}

// copyJournalLines copies journalctl's output to w without its "-- Boot
// … --" separators, which are not log lines, and counts what it kept.
func copyJournalLines(w io.Writer, r io.Reader, n *int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: keep it whole, the reader of the file bounds it.
			if _, werr := bw.Write(line); werr != nil {
				return werr
			}
			continue
		}
		if len(line) > 0 && !bytes.HasPrefix(line, []byte("-- ")) {
			if _, werr := bw.Write(line); werr != nil {
				return werr
			}
			*n++
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
