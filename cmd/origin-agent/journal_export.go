package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/origin-agent/origin-agent/agent/source/journal"
)

// exportJournalKernel writes the kernel's messages from the systemd
// journal (see journal.ExportKernel) to a file in a new temporary
// directory, for analyze to read like any other kernel log, and returns
// its path and how reports name it: the command that produced it. The
// caller removes filepath.Dir(path).
//
// On hosts without rsyslog (Debian 12's default) there is no kern.log:
// the journal is the only record of OOM kills and segfaults.
func exportJournalKernel(ctx context.Context, dir string, since, until time.Time) (path, label string, err error) {
	label = "journalctl _TRANSPORT=kernel"
	if dir != "" {
		label = "journalctl --directory=" + dir + " _TRANSPORT=kernel"
	}
	tmp, err := os.MkdirTemp("", "origin-agent-journal-")
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(tmp, "kernel.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = journal.ExportKernel(ctx, f, dir, since, until)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	switch {
	case errors.Is(err, exec.ErrNotFound):
		err = fmt.Errorf("--journal: journalctl not found (it comes with systemd): %w", err)
	case err != nil:
		err = fmt.Errorf("--journal: %s: %w", label, err)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", "", err
	}
	return path, label, nil
}
