package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// Line is one complete line of a tailed file.
type Line struct {
	Path   string // the configured path (also for lines of its rotated generations)
	Offset int64  // offset just after this line's newline in File
	Start  int64  // offset of the line's first byte in File
	// Num is the 1-based number of the line in File, counted from the
	// file's start; 0 when unknown (reading began mid-file, at an offset
	// whose line count was not saved).
	Num int64
	// Text is the line without its newline. It is the consumer's to keep:
	// the source never writes to it again.
	Text []byte
	// Cut reports that the line was longer than Options.MaxLineSize and
	// Text holds only its first MaxLineSize bytes.
	Cut  bool
	File positions.Key // the file generation the line came from
}

// Options tune a FileSource. Zero values take the defaults.
type Options struct {
	Log           *slog.Logger  // nil: discard
	PollInterval  time.Duration // path check and idle wait; default 250ms
	RetryInterval time.Duration // retry of an unreadable file; default 5s
	RotatedIdle   time.Duration // keep reading a renamed file until quiet this long; default 5s
	MaxLineSize   int           // default 1 MiB
	Buffer        int           // capacity of Lines(); default 1024
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 5 * time.Second
	}
	if o.RotatedIdle <= 0 {
		o.RotatedIdle = 5 * time.Second
	}
	if o.MaxLineSize <= 0 {
		o.MaxLineSize = 1 << 20
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	return o
}

// readBudget bounds one pass over the current file so that rotation checks
// and rotated files are not starved by a fast writer.
const readBudget = 1 << 20

// FileSource tails one path. See the package documentation for the
// contract. Run may be called once.
type FileSource struct {
	path  string
	store *positions.Store
	opt   Options
	log   *slog.Logger
	lines chan Line
	ready chan struct{} // closed when Run has chosen its start positions

	mu        sync.Mutex
	committed map[fileID]positions.Key // last key committed per file
	finished  map[positions.Key]int64  // rotated files read to the end: end offset
}

type fileID struct{ dev, ino uint64 }

func idOf(k positions.Key) fileID { return fileID{k.Dev, k.Ino} }

// NewFile returns a source for path whose positions live in store.
func NewFile(path string, store *positions.Store, opt Options) (*FileSource, error) {
	if path == "" {
		return nil, errors.New("file source: empty path")
	}
	if store == nil {
		return nil, fmt.Errorf("file source %s: nil positions store", path)
	}
	opt = opt.withDefaults()
	return &FileSource{
		path:      path,
		store:     store,
		opt:       opt,
		log:       opt.Log.With("path", path),
		lines:     make(chan Line, opt.Buffer),
		ready:     make(chan struct{}),
		committed: make(map[fileID]positions.Key),
		finished:  make(map[positions.Key]int64),
	}, nil
}

// Lines is the channel Run delivers on; Run closes it when it returns.
func (s *FileSource) Lines() <-chan Line { return s.lines }

// Commit records that l and every earlier line of the same file were
// handled. Call it in delivery order, from any goroutine.
func (s *FileSource) Commit(l Line) {
	s.store.Mark(l.File, l.Offset, l.Num)
	id := idOf(l.File)
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.committed[id]; ok && prev != l.File {
		// Same inode, newer fingerprint: it grew, or it was truncated
		// and every line of the old content before this one was
		// committed already. The old entry is superseded.
		s.store.Remove(prev)
	}
	s.committed[id] = l.File
	if end, ok := s.finished[l.File]; ok && l.Offset >= end {
		s.store.Remove(l.File)
		delete(s.finished, l.File)
		delete(s.committed, id)
	}
}

// finish is called when a rotated file has been read to its end: its
// entry is dropped once the consumer committed up to end.
func (s *FileSource) finish(k positions.Key, end int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off, ok := s.store.Get(k); ok && off >= end {
		s.store.Remove(k)
		delete(s.committed, idOf(k))
		return
	}
	s.finished[k] = end
}

// tailState is Run's private state; it lives on Run's stack only.
type tailState struct {
	cur       *reader
	drains    []*reader
	fromStart bool      // the next open of the path reads from offset 0
	nextOpen  time.Time // earliest next open attempt
	openErr   string    // last open error, logged once
	statErr   string    // last stat error while a file is open
}

// Run tails until ctx ends, then closes Lines and returns nil. Errors
// reading the files are logged and retried; they never end Run.
func (s *FileSource) Run(ctx context.Context) error {
	defer close(s.lines)
	st := &tailState{}
	defer func() {
		if st.cur != nil {
			st.cur.close()
		}
		for _, r := range st.drains {
			r.close()
		}
	}()
	s.resume(st)
	close(s.ready)

	for ctx.Err() == nil {
		progressed := s.pumpDrains(ctx, st)
		s.checkPath(st)
		if st.cur != nil {
			n, err := s.pumpCur(ctx, st)
			if err != nil {
				s.log.Error("tail failed; reopening later", "file", st.cur.name, "err", err)
				st.cur.close()
				st.cur = nil
				st.fromStart = false
				st.nextOpen = time.Now().Add(s.opt.RetryInterval)
			}
			progressed = progressed || n > 0
		}
		if progressed {
			continue
		}
		t := time.NewTimer(s.opt.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// send delivers r.batch; false when ctx ended first.
func (s *FileSource) send(ctx context.Context, r *reader) bool {
	for i := range r.batch {
		l := r.batch[i]
		l.Path = s.path
		l.File = r.key
		select {
		case s.lines <- l:
			r.sent = l.Offset
			r.sentLines = linesAt(l.Offset, l.Num)
		case <-ctx.Done():
			return false
		}
	}
	r.batch = r.batch[:0]
	return true
}

// pumpDrains reads rotated files and copies to their end and finishes the
// ones that are done.
func (s *FileSource) pumpDrains(ctx context.Context, st *tailState) bool {
	progressed := false
	keep := st.drains[:0]
	for _, r := range st.drains {
		done := false
		for ctx.Err() == nil {
			n, err := r.read(readBudget)
			if err != nil {
				s.log.Error("read rotated file failed; giving it up", "file", r.name, "err", err)
				done = true
				break
			}
			if !s.send(ctx, r) {
				break
			}
			if n == 0 {
				break
			}
			progressed = true
			r.lastGrowth = time.Now()
		}
		if r.static || time.Since(r.lastGrowth) >= s.opt.RotatedIdle {
			done = true
		}
		if done && ctx.Err() == nil {
			if r.pend > 0 {
				s.log.Warn("rotated file ends without a newline; last partial line dropped", "file", r.name, "bytes", r.pend)
			}
			s.log.Debug("finished rotated file", "file", r.name, "offset", r.sent)
			s.finish(r.key, r.sent)
			r.close()
			continue
		}
		keep = append(keep, r)
	}
	clear(st.drains[len(keep):])
	st.drains = keep
	return progressed
}

// pumpCur reads the current file once, checks it was not truncated
// meanwhile, and delivers its lines.
func (s *FileSource) pumpCur(ctx context.Context, st *tailState) (int, error) {
	r := st.cur
	n, err := r.read(readBudget)
	if err != nil {
		return n, err
	}
	ok, err := r.verify()
	if err != nil {
		return n, err
	}
	if !ok {
		s.truncated(ctx, st)
		return 1, nil
	}
	s.send(ctx, r)
	return n, nil
}

// truncated handles a copytruncate of the current file: what was read in
// this pass is dropped, the rest of the old content comes from the copy if
// there is one, and the file is read again from 0.
func (s *FileSource) truncated(ctx context.Context, st *tailState) {
	r := st.cur
	old, from, lines := r.key, r.sent, r.sentLines
	r.discard()
	cp := s.findCopy(old, from, idOf(old))
	if cp != nil {
		cp.setLines(lines)
		s.log.Info("file truncated; reading the rest of the old content from its copy",
			"copy", cp.name, "offset", from)
		// Copies are read to their end before the new content so that
		// commits stay in order (see Commit).
		st.drains = append(st.drains, cp)
		s.pumpDrains(ctx, st)
	} else if from > 0 {
		s.log.Warn("file truncated and no copy found; lines written after the last one read are lost",
			"offset", from)
	}
	if err := r.rewind(); err != nil {
		s.log.Error("rewind after truncation failed; reopening later", "err", err)
		r.close()
		st.cur = nil
		st.fromStart = true
	}
}

// checkPath notices rename rotation and opens the path when no file is
// open.
func (s *FileSource) checkPath(st *tailState) {
	if st.cur != nil {
		fi, err := os.Stat(s.path)
		switch {
		case err == nil:
			st.statErr = ""
			dev, ino, _ := positions.DevIno(fi)
			if dev == st.cur.key.Dev && ino == st.cur.key.Ino {
				return
			}
		case errors.Is(err, fs.ErrNotExist):
			st.statErr = ""
		default:
			if msg := err.Error(); msg != st.statErr {
				st.statErr = msg
				s.log.Error("cannot stat path; still reading the open file", "err", err)
			}
			return
		}
		s.log.Info("file rotated; reading the old one to its end", "inode", st.cur.key.Ino)
		st.cur.lastGrowth = time.Now()
		st.drains = append(st.drains, st.cur)
		st.cur = nil
		st.fromStart = true
		st.nextOpen = time.Time{}
	}
	if time.Now().Before(st.nextOpen) {
		return
	}
	r, err := s.open(st.fromStart)
	if err != nil {
		retry := s.opt.RetryInterval
		if errors.Is(err, fs.ErrNotExist) {
			retry = s.opt.PollInterval
			if st.openErr != "missing" {
				s.log.Info("waiting for the file to appear")
				st.openErr = "missing"
			}
		} else if msg := err.Error(); msg != st.openErr {
			s.log.Error("cannot read file; retrying", "err", err, "retry", retry)
			st.openErr = msg
		}
		st.nextOpen = time.Now().Add(retry)
		return
	}
	if st.openErr != "" {
		s.log.Info("file opened", "inode", r.key.Ino)
	}
	st.openErr = ""
	st.cur = r
	s.anchor(r)
}

// anchor saves where reading of a newly opened file starts, before any of
// its lines is committed: a restart then resumes there instead of taking
// the file for new (from its end) and skipping what was written meanwhile.
func (s *FileSource) anchor(r *reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.Mark(r.key, r.sent, r.sentLines)
	s.committed[idOf(r.key)] = r.key
}

// open opens the path from offset 0 (fromStart) or from its last complete
// line.
func (s *FileSource) open(fromStart bool) (*reader, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	r, err := s.readerFor(f, s.path, fromStart)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (s *FileSource) readerFor(f *os.File, name string, fromStart bool) (*reader, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: not a regular file (%s)", name, fi.Mode().Type())
	}
	dev, ino, _ := positions.DevIno(fi)
	start := int64(0)
	if !fromStart {
		if start, err = lastLineEnd(f, fi.Size()); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	r, err := newReader(f, name, positions.Key{Path: s.path, Dev: dev, Ino: ino}, start, s.opt.MaxLineSize)
	if err != nil {
		return nil, err
	}
	if r.key.FP, err = r.prefixFingerprint(); err != nil {
		return nil, err
	}
	return r, nil
}

// lastLineEnd is the offset just after the last newline of a file of the
// given size, looking back at most 64 KiB (so a first start does not
// deliver half a line that was being written); size when there is none.
func lastLineEnd(f *os.File, size int64) (int64, error) {
	from := max(size-64<<10, 0)
	buf := make([]byte, size-from)
	n, err := f.ReadAt(buf, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	for i := n - 1; i >= 0; i-- {
		if buf[i] == '\n' {
			return from + int64(i) + 1, nil
		}
	}
	return size, nil
}
