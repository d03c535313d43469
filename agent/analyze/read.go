package analyze

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// MaxLine is the longest line handed to a parser; longer lines are counted
// as skipped ("line too long") and the reader moves on to the next one.
const MaxLine = 1 << 20

const (
	chunkSize   = 1 << 20
	chunksAhead = 3
)

// chunk is a block of the file as read; err is set on the last one.
type chunk struct {
	buf []byte
	err error // io.EOF at the end
}

// lineReader yields lines without their line ending. Reading (and
// gunzipping) runs in its own goroutine a few chunks ahead of the parser, so
// on a two-core machine the copy from the page cache overlaps parsing. The
// slice next returns is valid until the following call.
//
// A reader can be parked: its file closed and its goroutine stopped, a
// little of what it had read kept, so that many files can be read with few
// open at a time (see openSet). Reading on past what was kept opens the
// file again where it stopped (a .gz is decompressed again up to there).
type lineReader struct {
	path   string
	chunks chan chunk
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	file   *os.File // nil when parked or closed
	parked bool

	cur     []byte
	pos     int
	base    int64 // offset in the (decompressed) input of cur[0]
	err     error
	long    []byte // a line that spans chunks, assembled
	n       int64  // lines read
	tooLong bool   // the last line exceeded MaxLine and was cut
}

// parkKeep bounds what a parked reader keeps of what it had read.
const parkKeep = 16 << 10

// chunkPool recycles chunk buffers between readers: parking and reopening
// would otherwise allocate megabytes each time.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

func getChunk() []byte  { return *chunkPool.Get().(*[]byte) }
func putChunk(b []byte) { b = b[:cap(b)]; chunkPool.Put(&b) }

// openLines opens path, transparently gunzipping .gz files.
func openLines(path string) (*lineReader, error) {
	lr := &lineReader{path: path}
	if err := lr.start(0); err != nil {
		return nil, err
	}
	return lr, nil
}

// start opens the file and starts reading at off (of the decompressed
// input).
func (lr *lineReader) start(off int64) error {
	f, err := os.Open(lr.path)
	if err != nil {
		return err
	}
	var src io.Reader = f
	if strings.HasSuffix(lr.path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: not a valid gzip file: %w", lr.path, err)
		}
		src = zr
		if off > 0 {
			if _, err := io.CopyN(io.Discard, zr, off); err != nil {
				f.Close()
				return fmt.Errorf("%s: reading again up to byte %d: %w", lr.path, off, err)
			}
		}
	} else if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", lr.path, err)
		}
	}
	lr.chunks = make(chan chunk, chunksAhead)
	lr.free = make(chan []byte, chunksAhead+2)
	lr.stop = make(chan struct{})
	lr.done = make(chan struct{})
	lr.file, lr.parked = f, false
	for i := 0; i < chunksAhead+2; i++ {
		lr.free <- getChunk()
	}
	go lr.produce(src)
	return nil
}

// halt stops the goroutine, closes the file and recycles the buffers in
// flight (not cur).
func (lr *lineReader) halt() error {
	if lr.file == nil {
		return nil
	}
	close(lr.stop)
	err := lr.file.Close() // unblocks a read in progress
	<-lr.done
	lr.file = nil
	for {
		select {
		case c := <-lr.chunks:
			putChunk(c.buf)
			continue
		case b := <-lr.free:
			putChunk(b)
			continue
		default:
		}
		break
	}
	return err
}

// park closes the file, keeping up to parkKeep bytes of what is unread.
// Slices returned by next are invalid afterwards.
func (lr *lineReader) park() {
	if lr.file == nil {
		return
	}
	lr.halt()
	rest := lr.cur[min(lr.pos, len(lr.cur)):]
	keep := min(len(rest), parkKeep)
	kept := append([]byte(nil), rest[:keep]...)
	if lr.cur != nil {
		putChunk(lr.cur)
	}
	if keep < len(rest) || lr.err == nil {
		lr.err = nil // more to read than kept: open again for it
	}
	lr.base += int64(min(lr.pos, len(lr.cur)))
	lr.cur, lr.pos, lr.parked = kept, 0, true
}

// produce reads chunks until EOF, an error, or Close. It owns src.
func (lr *lineReader) produce(src io.Reader) {
	defer close(lr.done)
	for {
		var buf []byte
		select {
		case buf = <-lr.free:
		case <-lr.stop:
			return
		}
		n, err := readFull(src, buf[:cap(buf)])
		c := chunk{buf: buf[:n], err: err}
		select {
		case lr.chunks <- c:
		case <-lr.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// ErrTruncated marks a compressed file that ends before its end: a .gz
// cut short by a full disk, a copy interrupted, a rotation compressing
// while the file was copied. The lines before the cut are read.
var ErrTruncated = errors.New("truncated: the compressed data ends early (the lines before the cut were read)")

// readFull fills buf from src like io.ReadFull, except that only a clean
// io.EOF ends the input: io.ReadFull turns a short read before EOF into
// io.ErrUnexpectedEOF, which is also how compress/gzip reports a stream
// cut short, and the two must not be confused.
func readFull(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = ErrTruncated
			}
			return n, err
		}
	}
	return n, nil
}

// Close stops the reader goroutine and closes the file.
func (lr *lineReader) Close() error {
	lr.parked = false
	return lr.halt()
}

// fill moves to the next chunk, recycling the current one. false at the end.
func (lr *lineReader) fill() bool {
	if lr.err != nil {
		return false
	}
	if lr.cur != nil {
		lr.base += int64(len(lr.cur))
		if !lr.parked {
			lr.free <- lr.cur[:cap(lr.cur)]
		}
		lr.cur, lr.pos = nil, 0
	}
	if lr.parked {
		if err := lr.start(lr.base); err != nil {
			lr.err = err
			return false
		}
	}
	c := <-lr.chunks
	lr.cur, lr.pos = c.buf, 0
	if c.err != nil {
		lr.err = c.err
	}
	return len(c.buf) > 0
}

// next returns the next line. At the end of input it returns io.EOF; a
// final line without a newline is still returned first.
func (lr *lineReader) next() ([]byte, error) {
	lr.tooLong = false
	if lr.pos >= len(lr.cur) && !lr.fill() {
		return nil, lr.endErr()
	}
	rest := lr.cur[lr.pos:]
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		lr.pos += i + 1
		lr.n++
		return trimEOL(rest[:i+1]), nil
	}
	// The line continues in the next chunk(s).
	lr.long = append(lr.long[:0], rest...)
	lr.pos = len(lr.cur)
	for lr.fill() {
		rest = lr.cur
		i := bytes.IndexByte(rest, '\n')
		part := rest
		if i >= 0 {
			part = rest[:i+1]
		}
		if len(lr.long) < MaxLine {
			lr.long = append(lr.long, part...)
		} else {
			lr.tooLong = true
		}
		if i >= 0 {
			lr.pos = i + 1
			break
		}
		lr.pos = len(lr.cur)
	}
	if len(lr.long) == 0 {
		return nil, lr.endErr()
	}
	if len(lr.long) > MaxLine {
		lr.long = lr.long[:MaxLine]
		lr.tooLong = true
	}
	lr.n++
	return trimEOL(lr.long), nil
}

func (lr *lineReader) endErr() error {
	if lr.err == nil || errors.Is(lr.err, io.EOF) {
		return io.EOF
	}
	return lr.err
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// sample returns up to n non-empty lines from the start of path (each cut
// at 64 KiB) for type detection.
func sample(path string, n int) ([][]byte, error) {
	lr, err := openLines(path)
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	var out [][]byte
	for len(out) < n {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrTruncated) && len(out) > 0 {
			break // the stream reads up to the cut again, and reports it
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if len(l) > 64<<10 {
			l = l[:64<<10]
		}
		out = append(out, append([]byte(nil), l...))
	}
	return out, nil
}
