package source

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// compressed rotated files are never read: their offsets mean nothing.
var compressedExt = []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z"}

// sibling is a rotated generation lying beside the path.
type sibling struct {
	name     string
	dev, ino uint64
	size     int64
	mtime    time.Time
}

// siblings lists regular files in the path's directory whose names start
// with the path's base name (access.log.1, access.log-20261120), except
// the path itself and compressed ones.
func (s *FileSource) siblings() []sibling {
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.log.Warn("cannot list rotated files", "dir", dir, "err", err)
		return nil
	}
	var out []sibling
	for _, e := range ents {
		n := e.Name()
		if n == base || !strings.HasPrefix(n, base) || hasAnySuffix(n, compressedExt) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		dev, ino, _ := positions.DevIno(fi)
		out = append(out, sibling{name: filepath.Join(dir, n), dev: dev, ino: ino, size: fi.Size(), mtime: fi.ModTime()})
	}
	return out
}

func hasAnySuffix(s string, sfx []string) bool {
	for _, x := range sfx {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// openSibling opens sib and checks its content starts with fp; nil when it
// does not (an inode reused by another file) or cannot be read.
func (s *FileSource) openSibling(sib sibling, fp positions.Fingerprint, start int64, static bool) *reader {
	f, err := os.Open(sib.name)
	if err != nil {
		s.log.Warn("cannot open rotated file", "file", sib.name, "err", err)
		return nil
	}
	r, err := newReader(f, sib.name, positions.Key{Path: s.path, Dev: sib.dev, Ino: sib.ino}, start, s.opt.MaxLineSize)
	if err != nil {
		f.Close()
		return nil
	}
	p, err := r.prefix()
	if err != nil || !fp.Matches(p) || start > sib.size {
		f.Close()
		return nil
	}
	if static {
		r.key.FP = positions.FingerprintOf(p)
	} else {
		r.key.FP = fp // keep the saved key so commits continue that entry
	}
	r.static, r.lastGrowth = static, time.Now()
	return r
}

// findCopy finds a copy of content fingerprinted old (copytruncate) that
// holds at least from bytes, other than the file exclude, and opens it at
// from. The most recently modified candidate wins.
func (s *FileSource) findCopy(old positions.Key, from int64, exclude fileID) *reader {
	if old.FP.Len == 0 {
		return nil // nothing identifies the old content
	}
	var best *sibling
	sibs := s.siblings()
	for i := range sibs {
		c := &sibs[i]
		if (fileID{c.dev, c.ino}) == exclude || c.size < from {
			continue
		}
		if best == nil || c.mtime.After(best.mtime) {
			if r := s.openSibling(*c, old.FP, from, true); r != nil {
				r.close()
				best = c
			}
		}
	}
	if best == nil {
		return nil
	}
	return s.openSibling(*best, old.FP, from, true)
}

// resume decides where to start from the saved positions of s.path: see
// "Start positions" in the package documentation.
func (s *FileSource) resume(st *tailState) {
	entries := s.store.Find(s.path)
	var cur *reader
	f, err := os.Open(s.path)
	switch {
	case err == nil:
		if cur, err = s.readerFor(f, s.path, true); err != nil {
			f.Close()
			cur = nil
			s.log.Error("cannot read file; retrying", "err", err)
			st.openErr = err.Error() // the poll loop does not say it again
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		s.log.Error("cannot read file; retrying", "err", err)
		st.openErr = err.Error()
	}
	if len(entries) == 0 && !s.store.Recovered().IsZero() {
		// The positions were lost (a corrupt file set aside): read what
		// exists from its start, the current file and the rotated
		// generations written since the lost checkpoint.
		st.fromStart = true
		s.resumeUnseen(st, map[fileID]bool{}, cur)
		if cur != nil {
			s.log.Warn("positions lost: reading from the start", "file", s.path)
			st.cur = cur
			s.anchor(cur)
		}
		return
	}
	if len(entries) == 0 {
		// First start: a file that exists is read from its end; one
		// that appears later is new, so from its start.
		st.fromStart = true
		if cur != nil {
			end, err := lastLineEnd(cur.f, sizeOf(cur.f))
			if err == nil {
				_, err = cur.f.Seek(end, io.SeekStart)
			}
			if err != nil {
				s.log.Error("cannot seek to the end; reading from the start", "err", err)
				end = 0
				cur.f.Seek(0, io.SeekStart)
			}
			cur.off, cur.sent = end, end
			cur.setLines(countLines(cur.f, end))
			s.log.Info("first start: reading from the end", "offset", end)
			st.cur = cur
			s.anchor(cur)
		}
		return
	}

	// Where each saved generation continues: a file (by inode) and the
	// highest saved offset that resolves to it.
	type target struct {
		sib  sibling
		fp   positions.Fingerprint
		key  positions.Key // kept when the saved key is reused as is
		from int64
		// lines before from (-1: unknown)
		lines int64
	}
	var targets []*target
	find := func(id fileID) *target {
		for _, t := range targets {
			if (fileID{t.sib.dev, t.sib.ino}) == id {
				return t
			}
		}
		return nil
	}
	var sibs []sibling
	listed := false
	var curPrefix []byte
	if cur != nil {
		curPrefix, _ = cur.prefix()
		curPrefix = append([]byte(nil), curPrefix...)
	}
	// addCopy makes the copy cp (copytruncate) of a saved generation a
	// target, read from the highest saved offset that resolves to it.
	addCopy := func(cp *reader, fp positions.Fingerprint, from, lines int64) {
		defer cp.close()
		if t := find(idOf(cp.key)); t != nil {
			if from > t.from {
				t.from, t.lines = from, lines
			}
			return
		}
		sib := sibling{name: cp.name, dev: cp.key.Dev, ino: cp.key.Ino}
		targets = append(targets, &target{sib: sib, fp: fp, from: from, lines: lines})
	}
	var stale []positions.Key
	var curStart, curLines int64 = -1, -1
	var curKey positions.Key
	for _, e := range entries {
		if cur != nil && e.Dev == cur.key.Dev && e.Ino == cur.key.Ino {
			if e.FP.Matches(curPrefix) && e.Offset <= sizeOf(cur.f) {
				// Entries come shortest fingerprint first: the last match wins.
				if curStart >= 0 {
					stale = append(stale, curKey)
				}
				curStart, curKey, curLines = e.Offset, e.Key, linesAt(e.Offset, e.Lines)
				continue
			}
			// Same inode, other content: truncated while we were down.
			if cp := s.findCopy(e.Key, e.Offset, idOf(e.Key)); cp != nil {
				addCopy(cp, e.FP, e.Offset, linesAt(e.Offset, e.Lines))
			}
			stale = append(stale, e.Key)
			continue
		}
		// Another inode: renamed away (or deleted) while we were down.
		if !listed {
			sibs, listed = s.siblings(), true
		}
		found := false
		for _, sib := range sibs {
			if sib.dev != e.Dev || sib.ino != e.Ino {
				continue
			}
			if r := s.openSibling(sib, e.FP, e.Offset, false); r != nil {
				r.close()
				if t := find(fileID{sib.dev, sib.ino}); t != nil {
					if e.Offset > t.from {
						t.from, t.fp, t.key, t.lines = e.Offset, e.FP, e.Key, linesAt(e.Offset, e.Lines)
					}
				} else {
					targets = append(targets, &target{sib: sib, fp: e.FP, key: e.Key, from: e.Offset, lines: linesAt(e.Offset, e.Lines)})
				}
				found = true
			} else if cp := s.findCopy(e.Key, e.Offset, idOf(e.Key)); cp != nil {
				// Truncated (copytruncate) and then renamed while we were
				// down: the saved content lives on in its copy, and what
				// the inode holds now was never read (resumeUnseen).
				addCopy(cp, e.FP, e.Offset, linesAt(e.Offset, e.Lines))
			}
			break
		}
		if !found {
			stale = append(stale, e.Key)
		}
	}

	opened := map[fileID]bool{} // files resumed: resumeUnseen leaves them alone
	for _, t := range targets {
		if !listed {
			sibs, listed = s.siblings(), true
		}
		for _, sib := range sibs {
			if sib.dev == t.sib.dev && sib.ino == t.sib.ino {
				t.sib = sib
			}
		}
		static := t.key == (positions.Key{})
		r := s.openSibling(t.sib, t.fp, t.from, static)
		if r == nil {
			if !static {
				stale = append(stale, t.key)
			}
			continue
		}
		r.setLines(t.lines)
		if static {
			// Carry the saved offset over to the copy's own key before the
			// old entries go, so a crash in between loses nothing.
			s.store.Mark(r.key, t.from, t.lines)
		} else {
			s.mu.Lock()
			s.committed[idOf(r.key)] = r.key
			s.mu.Unlock()
		}
		s.log.Info("resuming a rotated generation", "file", r.name, "offset", t.from)
		st.drains = append(st.drains, r)
		opened[idOf(r.key)] = true
	}
	for _, k := range stale {
		s.store.Remove(k)
	}
	s.resumeUnseen(st, opened, cur)
	// Oldest generation first: lines reach the correlator in about the
	// order they were written (it tolerates only small disorder).
	slices.SortStableFunc(st.drains, func(a, b *reader) int { return modTime(a.f).Compare(modTime(b.f)) })

	st.fromStart = true
	if cur == nil {
		return
	}
	if curStart < 0 {
		s.log.Info("file was replaced while the agent was down: reading from its start")
		curStart, curLines = 0, 0
	} else {
		cur.key.FP = curKey.FP // continue the saved entry; verify extends it
		s.mu.Lock()
		s.committed[idOf(curKey)] = curKey
		s.mu.Unlock()
		s.log.Info("resuming", "offset", curStart)
	}
	if _, err := cur.f.Seek(curStart, io.SeekStart); err != nil {
		s.log.Error("cannot seek; reading from the start", "err", err)
		curStart, curLines = 0, 0
		cur.f.Seek(0, io.SeekStart)
	}
	cur.off, cur.sent = curStart, curStart
	cur.setLines(curLines)
	st.cur = cur
	if curKey == (positions.Key{}) {
		s.anchor(cur)
	}
}

// resumeUnseen reads from their start the rotated generations that
// appeared after the last checkpoint and that no saved position accounts
// for: a file the agent had not checkpointed yet, rotated (renamed or
// copied) while the agent was down. Re-reading one that was in fact
// handled only repeats lines handled after the last checkpoint.
func (s *FileSource) resumeUnseen(st *tailState, known map[fileID]bool, cur *reader) {
	since := s.store.Loaded()
	if since.IsZero() {
		since = s.store.Recovered()
	}
	if since.IsZero() {
		return
	}
	if cur != nil {
		known[idOf(cur.key)] = true
	}
	for _, sib := range s.siblings() {
		if known[fileID{sib.dev, sib.ino}] || !sib.mtime.After(since) {
			s.log.Debug("rotated file needs no reading", "file", sib.name, "mtime", sib.mtime, "checkpoint", since)
			continue
		}
		r := s.openSibling(sib, positions.FingerprintOf(nil), 0, false)
		if r == nil {
			continue
		}
		if fp, err := r.prefixFingerprint(); err == nil {
			r.key.FP = fp
		}
		s.log.Info("reading a rotated generation written since the last checkpoint", "file", r.name)
		st.drains = append(st.drains, r)
	}
}

func modTime(f *os.File) time.Time {
	fi, err := f.Stat()
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func sizeOf(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// countLinesMax bounds the bytes a first start reads to number the lines of
// a file it then reads from its end: more than that, and its line numbers
// stay unknown (evidence gives byte offsets) rather than delay the start.
const countLinesMax = 64 << 20

// countLines is the number of newlines before end in f, -1 when end is
// past countLinesMax or f cannot be read.
func countLines(f *os.File, end int64) int64 {
	if end > countLinesMax {
		return -1
	}
	buf := make([]byte, 64<<10)
	var n int64
	for off := int64(0); off < end; {
		m, err := f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		n += int64(bytes.Count(buf[:m], []byte{'\n'}))
		off += int64(m)
		if err != nil && (!errors.Is(err, io.EOF) || off < end) {
			return -1
		}
	}
	return n
}
