package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/internal/stateown"
)

// appendJSONLines appends one JSON object per finding, each ending in "\n".
func appendJSONLines(buf []byte, batch []finding.Finding) ([]byte, error) {
	for _, f := range batch {
		js, err := json.Marshal(f)
		if err != nil {
			return buf, Permanent(fmt.Errorf("encode finding %s: %w", f.ID, err))
		}
		buf = append(buf, js...)
		buf = append(buf, '\n')
	}
	return buf, nil
}

// writerSink writes JSON lines to an io.Writer (stdout).
type writerSink struct {
	mu sync.Mutex
	w  io.Writer
}

func newStdout(Deps) Sink { return &writerSink{w: os.Stdout} }

func (s *writerSink) Send(_ context.Context, batch []finding.Finding) error {
	buf, err := appendJSONLines(nil, batch)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(buf); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}

func (s *writerSink) Close() error { return nil }

// FileSink appends JSON lines to a file, rotating by size: when a write
// would push the file past maxSize, path.N-1 → path.N … path → path.1 and a
// new path is started; at most maxFiles rotated files are kept. Send returns
// after the batch was written and fsynced. Reopen (SIGHUP) reopens path for
// external rotation (logrotate with create).
type FileSink struct {
	path     string
	maxSize  int64
	maxFiles int

	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	size int64
}

var _ Reopener = (*FileSink)(nil)

func newFile(cfg Config) (*FileSink, error) {
	s := &FileSink{path: cfg.Path, maxSize: int64(cfg.MaxSize), maxFiles: cfg.MaxFiles}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	_ = stateown.Path(s.path) // run as root in the service's directory: keep it the service's
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", s.path, err)
	}
	s.f, s.size = f, st.Size()
	s.w = bufio.NewWriterSize(f, 64<<10)
	return nil
}

func (s *FileSink) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if e := s.f.Close(); err == nil {
		err = e
	}
	s.f, s.w = nil, nil
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// Send writes the batch; one finding is never split across files.
func (s *FileSink) Send(_ context.Context, batch []finding.Finding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	start := s.size // where this batch begins in the current file
	var line []byte
	for _, f := range batch {
		var err error
		line, err = appendJSONLines(line[:0], []finding.Finding{f})
		if err != nil {
			return err
		}
		if s.maxSize > 0 && s.size > 0 && s.size+int64(len(line)) > s.maxSize {
			if err := s.rotate(); err != nil {
				return err
			}
			start = s.size
		}
		n, err := s.w.Write(line)
		s.size += int64(n)
		if err != nil {
			return s.abandon(start, fmt.Errorf("write %s: %w", s.path, err))
		}
	}
	if err := s.w.Flush(); err != nil {
		return s.abandon(start, fmt.Errorf("write %s: %w", s.path, err))
	}
	if err := s.f.Sync(); err != nil {
		return s.abandon(start, fmt.Errorf("fsync %s: %w", s.path, err))
	}
	return nil
}

// abandon undoes a batch that failed part-way (ENOSPC, EIO): a
// bufio.Writer keeps its first error forever, so the writer and the file are
// dropped, the file is cut back to where the batch began (no half line is
// left for a reader to choke on) and the next Send opens it afresh — once
// space is freed, findings are written again.
func (s *FileSink) abandon(start int64, err error) error {
	if terr := s.f.Truncate(start); terr != nil {
		err = fmt.Errorf("%w (and cutting back the partial batch: %v)", err, terr)
	}
	s.f.Close()
	s.f, s.w, s.size = nil, nil, start
	return err
}

func (s *FileSink) rotate() error {
	if err := s.closeFile(); err != nil {
		return err
	}
	if s.maxFiles <= 0 {
		if err := os.Remove(s.path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate %s: %w", s.path, err)
		}
		return s.open()
	}
	name := func(i int) string { return s.path + "." + strconv.Itoa(i) }
	if err := os.Remove(name(s.maxFiles)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rotate %s: %w", s.path, err)
	}
	for i := s.maxFiles - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate %s: %w", s.path, err)
		}
	}
	if err := os.Rename(s.path, name(1)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rotate %s: %w", s.path, err)
	}
	return s.open()
}

// Reopen closes the file and opens path again (after logrotate moved it).
func (s *FileSink) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closeFile(); err != nil {
		return err
	}
	return s.open()
}

// Close flushes and closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeFile()
}
