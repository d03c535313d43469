// Package source tails log files for the live agent and hands their lines,
// with the position just after each, to the pipeline.
//
// # Contract
//
// A FileSource follows one path across rotations. Run reads until its
// context ends and delivers every complete line on Lines(). Run owns that
// channel and closes it when it returns; it returns nil when the context
// was cancelled (the only way to stop it) and never blocks on a consumer
// that has gone away: every send selects on ctx.Done().
//
// # Positions: commit, then sync
//
// A Line carries its file generation (positions.Key) and the offset just
// after its newline. The consumer calls Commit(line) once it has handled
// the line; Commit marks that offset (and the line count) in the
// positions.Store, in memory. It means "this line and every earlier line of
// the same file were handled", so commits must follow delivery order. The
// source marks the store itself only where reading of a newly opened
// generation starts (so a restart resumes there rather than at the end),
// and drops the entries of generations that are gone or fully committed.
//
// The source never writes the store to disk. In the agent (package agent):
//
//   - a line is committed from the agent's loop, in delivery order, after
//     the correlator observed its event (a line that does not parse, after
//     it was counted);
//   - not at once, but through the agent's ack hold (agent/ackhold.go):
//     access-log lines commit right away; lines of signal logs (error,
//     php-fpm, kernel) trail by about the correlator's lookback, so that a
//     restart re-reads the signals an incident needs; and from the first
//     gateway status until no incident is open and the last status has
//     settled (at most 5 minutes), every commit is held and then released
//     in order;
//   - Agent.syncPositions writes the store (Store.Sync: atomic, and only
//     when something changed) every Options.SyncInterval (2 s by default),
//     right after a hold is released, and once more when the agent stops,
//     after the loop's last commit (a stop with no incident open releases
//     the hold first). While a hold is active it does not write, at a stop
//     neither (a restart re-reads the open incident), with one exception:
//     when there is no positions file yet, it writes one as soon as the
//     sources placed their start positions.
//
// So after a crash the source resumes from the last file written and
// re-delivers at most the lines handled since: those of the last
// SyncInterval, the trail of the signal logs, and an incident still open,
// from its start (at-least-once; findings keep their ids, and receivers
// de-duplicate them).
//
// # Start positions
//
//   - first start on a file (no saved position under its path): from its end;
//   - restart: from the saved offset when path, device, inode and content
//     fingerprint match;
//   - a file replaced while the agent was down (other inode, or same inode
//     with other content): from its start, and the previous generation,
//     if it is still beside it under a rotated name (access.log.1,
//     access.log-20261120…, not compressed) or as the copy a copytruncate
//     made, from its saved offset;
//   - a rotated generation no saved position accounts for, modified after
//     the positions file was written: from its start (it was rotated in
//     while the agent was down, before any checkpoint of it);
//   - positions lost (a corrupt positions file set aside, see
//     positions.Open): the file and such rotated generations from their
//     start;
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
