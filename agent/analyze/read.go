package analyze

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
type lineReader struct {
	chunks chan chunk
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	file   *os.File

	cur     []byte
	pos     int
	err     error
	long    []byte // a line that spans chunks, assembled
	n       int64  // lines read
	tooLong bool   // the last line exceeded MaxLine and was cut
}

// openLines opens path, transparently gunzipping .gz files.
func openLines(path string) (*lineReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var src io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: not a valid gzip file: %w", path, err)
		}
		src = zr
	}
	lr := &lineReader{
		chunks: make(chan chunk, chunksAhead),
		free:   make(chan []byte, chunksAhead+2),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		file:   f,
	}
	for i := 0; i < chunksAhead+2; i++ {
		lr.free <- make([]byte, chunkSize)
	}
	go lr.produce(src)
	return lr, nil
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
	select {
	case <-lr.stop:
	default:
		close(lr.stop)
	}
	<-lr.done
	return lr.file.Close()
}

// fill moves to the next chunk, recycling the current one. false at the end.
func (lr *lineReader) fill() bool {
	if lr.err != nil {
		return false
	}
	if lr.cur != nil {
		lr.free <- lr.cur[:cap(lr.cur)]
		lr.cur = nil
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
