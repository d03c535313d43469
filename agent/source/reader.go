package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	nxtail "github.com/nxadm/tail"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// arenaSize: Line.Text storage is carved from blocks of this size.
const arenaSize = 64 << 10

// reader reads complete lines from one open file generation.
//
// The lines themselves are read by github.com/nxadm/tail, in its one mode
// that has no path to os.Exit: not following (Follow false, so none of
// its watchers runs; no ReOpen; MustExist), with CompleteLines and no rate
// limiter. Each pass hands it the generation reader holds open, by
// /proc/self/fd, so it reads the same inode even after a rename or unlink,
// from off to its end; the line's SeekInfo.Offset is the checkpoint. What
// following means - polling, rotation, truncation by size and fingerprint,
// draining a renamed file, restart positions - is this package's.
type reader struct {
	f    *os.File
	key  positions.Key // Path is the configured path, not the rotated name
	name string        // file name it was opened as, for logs
	off  int64         // offset just after the last complete line read
	sent int64         // offset just after the last delivered line
	// lines and sentLines count the lines before off and sent: the file's
	// line numbers. -1 where unknown (reading began mid-file at an offset
	// whose line count was not saved).
	lines, sentLines int64
	pend             int // bytes after the last newline at the last EOF
	maxLine          int

	static     bool      // a copy: finish at its first EOF
	lastGrowth time.Time // draining: last time bytes were read

	t     *nxtail.Tail // the pass in progress; nil between passes
	fpbuf []byte
	arena []byte
	batch []Line
}

func newReader(f *os.File, name string, key positions.Key, start int64, maxLine int) (*reader, error) {
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek %s to %d: %w", name, start, err)
	}
	r := &reader{f: f, key: key, name: name, off: start, sent: start, maxLine: maxLine}
	r.setLines(linesAt(start, 0))
	return r, nil
}

// setLines says how many lines come before r.sent (-1: unknown).
func (r *reader) setLines(n int64) {
	if n < 0 {
		n = -1
	}
	r.lines, r.sentLines = n, n
}

// linesAt is the line count before off that a saved position (offset,
// lines) gives: offset 0 has none before it, a saved count is known, and
// else it is unknown (-1; see positions.Entry.Lines).
func linesAt(off, lines int64) int64 {
	switch {
	case off == 0:
		return 0
	case lines > 0:
		return lines
	}
	return -1
}

func (r *reader) close() {
	r.stopTail()
	r.f.Close()
}

// read reads complete lines until about budget bytes were read or the end
// of the file, into r.batch. It returns the number of bytes read.
func (r *reader) read(budget int) (int, error) {
	r.batch = r.batch[:0]
	total := 0
	for total < budget {
		if r.t == nil {
			// A pass only when something was written since the last one:
			// idle files (most vhosts' logs, most of the time) cost a
			// stat per poll, not an open and a goroutine.
			fi, err := r.f.Stat()
			if err != nil {
				return total, fmt.Errorf("stat %s: %w", r.name, err)
			}
			if fi.Size() <= r.off+int64(r.pend) {
				return total, nil
			}
			if err := r.startTail(); err != nil {
				return total, err
			}
		}
		l, ok := <-r.t.Lines
		if !ok { // the end of the file: the pass is over
			err := r.t.Wait()
			r.t = nil
			if err != nil {
				return total, fmt.Errorf("read %s: %w", r.name, err)
			}
			return total, nil
		}
		n := int64(len(l.Text))
		if l.SeekInfo.Offset != r.off+n+1 {
			// Not following, CompleteLines still sends what follows the
			// last newline at EOF: not a line yet. The next pass reads it
			// again from r.off, completed or longer.
			r.pend = int(n)
			continue
		}
		r.pend = 0
		r.emit(l.Text, r.off, l.SeekInfo.Offset)
		r.off = l.SeekInfo.Offset
		total += int(n + 1)
	}
	return total, nil
}

// startTail starts a pass of nxadm/tail over r.f from r.off.
func (r *reader) startTail() error {
	t, err := nxtail.TailFile("/proc/self/fd/"+strconv.Itoa(int(r.f.Fd())), nxtail.Config{
		Location:      &nxtail.SeekInfo{Offset: r.off, Whence: io.SeekStart},
		MustExist:     true,
		CompleteLines: true,
		Logger:        nxtail.DiscardingLogger,
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", r.name, err)
	}
	r.t = t
	return nil
}

// stopTail ends the pass in progress, if any: what it read ahead is
// dropped (r.off is not moved by it).
func (r *reader) stopTail() {
	if r.t == nil {
		return
	}
	r.t.Kill(nil)
	for range r.t.Lines { // it may be sending one line
	}
	r.t.Wait()
	r.t = nil
}

// emit adds the line from start to lineEnd to r.batch, cut to maxLine,
// numbered when the count is known.
func (r *reader) emit(text string, start, lineEnd int64) {
	var num int64
	if r.lines >= 0 {
		r.lines++
		num = r.lines
	}
	cut := false
	if len(text) > r.maxLine {
		text, cut = text[:r.maxLine], true
	}
	n := len(text)
	if cap(r.arena)-len(r.arena) < n {
		r.arena = make([]byte, 0, max(arenaSize, n))
	}
	s := len(r.arena)
	r.arena = append(r.arena, text...)
	r.batch = append(r.batch, Line{Offset: lineEnd, Start: start, Num: num, Text: r.arena[s:len(r.arena):len(r.arena)], Cut: cut})
}

// discard drops what read produced: r.off goes back to just after the
// last delivered line.
func (r *reader) discard() {
	r.stopTail()
	r.batch = r.batch[:0]
	r.off, r.pend = r.sent, 0
	r.lines = r.sentLines
}

// rewind restarts reading at offset 0 of the same open file (after a
// truncation) with a fresh fingerprint.
func (r *reader) rewind() error {
	r.discard()
	r.off, r.sent = 0, 0
	r.setLines(0)
	fp, err := r.prefixFingerprint()
	if err != nil {
		return err
	}
	r.key.FP = fp
	return nil
}

// prefixFingerprint fingerprints the file's current first bytes.
func (r *reader) prefixFingerprint() (positions.Fingerprint, error) {
	p, err := r.prefix()
	if err != nil {
		return positions.Fingerprint{}, err
	}
	return positions.FingerprintOf(p), nil
}

func (r *reader) prefix() ([]byte, error) {
	if r.fpbuf == nil {
		r.fpbuf = make([]byte, positions.FingerprintSize)
	}
	n, err := r.f.ReadAt(r.fpbuf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	return r.fpbuf[:n], nil
}

// verify reports whether the open file still holds the content r has been
// reading: not shorter than what was read, and its first bytes still match
// the fingerprint. When they do, the fingerprint is extended over what was
// read since - never past r.off: a prefix read while the file is truncated
// and rewritten can mix old and new bytes (seen under load: the old first
// page up to the new size), and a fingerprint over them matches neither
// the new content nor the copytruncate copy, whose lines were then lost.
func (r *reader) verify() (bool, error) {
	fi, err := r.f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", r.name, err)
	}
	if fi.Size() < r.off {
		return false, nil
	}
	p, err := r.prefix()
	if err != nil {
		return false, err
	}
	if !r.key.FP.Matches(p) {
		return false, nil
	}
	if n := int(min(int64(len(p)), r.off)); n > r.key.FP.Len {
		r.key.FP = positions.FingerprintOf(p[:n])
	}
	return true, nil
}
