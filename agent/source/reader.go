package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

const (
	readSize  = 64 << 10 // one read(2)
	arenaSize = 64 << 10 // Line.Text storage is carved from blocks of this size
)

// reader reads complete lines from one open file generation.
type reader struct {
	f       *os.File
	key     positions.Key // Path is the configured path, not the rotated name
	name    string        // file name it was opened as, for logs
	off     int64         // offset of the next byte read(2) returns
	sent    int64         // offset just after the last delivered line
	pend    []byte        // unterminated line, at most maxLine bytes
	cut     bool          // the pending line was longer than maxLine
	maxLine int

	static     bool      // a copy: finish at its first EOF
	lastGrowth time.Time // draining: last time bytes were read

	rbuf  []byte
	fpbuf []byte
	arena []byte
	batch []Line
}

func newReader(f *os.File, name string, key positions.Key, start int64, maxLine int) (*reader, error) {
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek %s to %d: %w", name, start, err)
	}
	return &reader{
		f: f, key: key, name: name, off: start, sent: start, maxLine: maxLine,
		rbuf: make([]byte, readSize),
	}, nil
}

func (r *reader) close() { r.f.Close() }

// read reads up to about budget bytes (until EOF) and splits them into
// r.batch. It returns the number of bytes read.
func (r *reader) read(budget int) (int, error) {
	r.batch = r.batch[:0]
	total := 0
	for total < budget {
		n, err := r.f.Read(r.rbuf)
		if n > 0 {
			r.split(r.rbuf[:n])
			total += n
		}
		if errors.Is(err, io.EOF) || (n == 0 && err == nil) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read %s: %w", r.name, err)
		}
	}
	return total, nil
}

// split appends the complete lines of chunk (read at r.off) to r.batch and
// keeps the unterminated rest in r.pend.
func (r *reader) split(chunk []byte) {
	base := r.off
	r.off += int64(len(chunk))
	start := 0
	for {
		i := bytes.IndexByte(chunk[start:], '\n')
		if i < 0 {
			break
		}
		end := start + i
		r.emit(chunk[start:end], base+int64(end)+1)
		start = end + 1
	}
	r.addPending(chunk[start:])
}

func (r *reader) emit(seg []byte, lineEnd int64) {
	cut := r.cut
	if room := r.maxLine - len(r.pend); len(seg) > room {
		seg = seg[:max(room, 0)]
		cut = true
	}
	n := len(r.pend) + len(seg)
	if cap(r.arena)-len(r.arena) < n {
		r.arena = make([]byte, 0, max(arenaSize, n))
	}
	s := len(r.arena)
	r.arena = append(r.arena, r.pend...)
	r.arena = append(r.arena, seg...)
	text := r.arena[s:len(r.arena):len(r.arena)]
	r.pend = r.pend[:0]
	r.cut = false
	r.batch = append(r.batch, Line{Offset: lineEnd, Text: text, Cut: cut})
}

func (r *reader) addPending(rest []byte) {
	if room := r.maxLine - len(r.pend); len(rest) > room {
		rest = rest[:max(room, 0)]
		r.cut = true
	}
	r.pend = append(r.pend, rest...)
}

// discard drops what read produced and rewinds to just after the last
// delivered line.
func (r *reader) discard() {
	r.batch = r.batch[:0]
	r.pend = r.pend[:0]
	r.cut = false
}

// rewind restarts reading at offset 0 of the same open file (after a
// truncation) with a fresh fingerprint.
func (r *reader) rewind() error {
	r.discard()
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s to 0: %w", r.name, err)
	}
	r.off, r.sent = 0, 0
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
// the fingerprint. When they do and the file has grown past the
// fingerprint's length, the fingerprint is extended.
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
	if len(p) > r.key.FP.Len {
		r.key.FP = positions.FingerprintOf(p)
	}
	return true, nil
}
