package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// SpoolDir is the spool directory of the sink cfg under stateDir: keyed by
// the sink's stable Identity, never by its position in the file.
func SpoolDir(stateDir string, cfg Config) string {
	return filepath.Join(stateDir, "spool", cfg.Identity())
}

// PrepareSpools runs before the spools are opened. Earlier versions named a
// spool by type and position ("loki-1" for the first [[sinks]] table when it
// was loki); each such spool is renamed to its sink's identity, on the
// assumption that the configuration has not changed since (an upgrade). A
// legacy name that is itself the identity of a configured sink is that
// sink's spool and stays. Spools that belong to no configured sink are
// reported, not deleted: they may hold findings the administrator wants
// delivered (give a sink that name) or drops (remove the directory).
// What it does and finds goes to log (nil: discard).
func PrepareSpools(stateDir string, sinks []Config, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root := filepath.Join(stateDir, "spool")
	ids := map[string]bool{}
	for _, c := range sinks {
		ids[c.Identity()] = true
	}
	for i, c := range sinks {
		if !Spooled(c) {
			continue
		}
		legacy := fmt.Sprintf("%s-%d", c.Type, i+1)
		to := SpoolDir(stateDir, c)
		if ids[legacy] || !exists(filepath.Join(root, legacy)) || exists(to) {
			continue
		}
		if err := os.Rename(filepath.Join(root, legacy), to); err != nil {
			log.Error("sink: keep the spool of an earlier version", "sink", c.Identity(), "spool", legacy, "err", err)
			continue
		}
		log.Info("sink: spool renamed to the sink's stable name", "from", legacy, "to", c.Identity())
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || ids[e.Name()] {
			continue
		}
		size := dirSize(filepath.Join(root, e.Name()))
		log.Warn("sink: spool of no configured sink; its findings are not delivered. Name a [[sinks]] table after it (name = \"…\") to deliver them to that sink, or remove the directory",
			"spool", filepath.Join(root, e.Name()), "bytes", size)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
