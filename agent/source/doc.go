// Package source tails log files for the live agent and hands their lines,
// with the position just after each, to the pipeline.
//
// # Contract
//
// A FileSource follows one path across rotations. Run reads until its
// context ends and delivers every complete line on Lines(). Run owns that
// channel and closes it when it returns; it returns nil when the context
// was cancelled (the only way to stop it) and never blocks on a consumer
// that has gone away: every send selects on ctx.Done(). The consumer calls
// Commit(line) after it handled a line; only then is the line's offset
// recorded in the positions.Store. Commit means "this line and every
// earlier line of the same file were handled", so commits must follow
// delivery order. The source never syncs the store: the caller runs
// Store.Run, so after a crash the source resumes from what was synced and
// re-delivers at most the lines handled since that sync (at-least-once).
//
// # Start positions
//
//   - first start on a file (no saved position under its path): from its end;
//   - restart: from the saved offset when path, device, inode and content
//     fingerprint match;
//   - a file replaced while the agent was down (other inode, or same inode
//     with other content): from its start, and the previous generation,
//     if it is still beside it under a rotated name (access.log.1,
//     access.log-20261120…, not compressed), from its saved offset;
//   - a file that does not exist yet: waited for (logged once), then read
//     from its start.
//
// # Rotation
//
// Rename rotation (logrotate create, nginx USR1): the path is stat-ed every
// PollInterval and compared by device+inode. The old file stays open and is
// read to its end, and further until it has been quiet for RotatedIdle
// (the writer may still be writing to it until it reopens), while the new
// file is read from offset 0.
//
// Copytruncate: after each read the file's size and fingerprint (hash of its
// first up to 1024 bytes) are checked, so a truncation is noticed even when
// the file regrew past the old offset before the check. Bytes read in the
// same pass are discarded (they may belong to the new content), the lines
// between the last delivered one and the truncation are read from the copy
// (a sibling whose content starts with the old fingerprint), and the file is
// read again from offset 0.
//
// Two rotations within one PollInterval lose the generation in between
// (it was never opened); logrotate does not do that.
//
// # What github.com/nxadm/tail does here, and what it does not
//
// nxadm/tail v1.4.11 reads the lines (see reader): Config{CompleteLines,
// MustExist, Location: the offset to resume from}, with Line.SeekInfo.Offset
// - the offset just after the line - as the checkpoint. It is never asked
// to follow. Following is where it loses lines and where it can end the
// process: it calls util.Fatal → os.Exit(1) when a stat of the followed
// path fails with anything but ENOENT, in both of its watchers
// (watch/inotify.go:121, watch/polling.go:81), and when an inotify
// instance cannot be made (watch/inotify_tracker.go:220), from goroutines
// we cannot guard; it reopens a renamed path without draining the old
// file, misses a truncation that regrew, and its rate limiter drops data.
// With Follow false none of its watchers runs and ReOpen is off, so no
// call path reaches os.Exit: each poll runs one pass of it over the open
// generation (by /proc/self/fd, so a renamed or deleted file is still the
// same inode) from the last complete line to the end, and the text after
// the last newline, which a non-following tail still sends, is recognised
// by its offset (not one past its text) and read again next time. The
// follow loop above - polling, rotation, truncation, draining, positions -
// is this package's.
package source
