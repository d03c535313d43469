package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// A log given as a named pipe, a process substitution (`analyze <(zcat
// access.log.*.gz)`, which the shell passes as /dev/fd/63) or a character
// device can be read only once, and may block until someone writes to it.
// Such an input is copied once into a private temporary file (honouring
// cancellation: SIGTERM ends a wait for a writer that never comes), and
// detection and reading then use the copy, under the input's own name.

// streamInput reports whether the file at path cannot be opened twice to
// the same content: anything but a regular file.
func streamInput(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular() && !st.IsDir()
}

// spool copies the input at path into a new file in dir, named like path
// (so that a .gz is still one), and returns the copy's path.
func spool(ctx context.Context, path, dir string) (string, error) {
	f, err := openCtx(ctx, path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tmp, err := os.CreateTemp(dir, "*-"+filepath.Base(path))
	if err != nil {
		return "", fmt.Errorf("%s: copy for reading: %w", path, err)
	}
	defer tmp.Close()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(tmp, f)
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		f.Close() // unblocks the read of a pipe
		<-done
		return "", ctx.Err()
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return tmp.Name(), tmp.Close()
}

// openCtx opens path for reading; opening a named pipe waits for a writer,
// and that wait ends with ctx.
func openCtx(ctx context.Context, path string) (*os.File, error) {
	type res struct {
		f   *os.File
		err error
	}
	ch := make(chan res, 1)
	go func() {
		f, err := os.Open(path)
		ch <- res{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
	}
	// Still waiting for a writer: be one for a moment, so the open
	// returns and its goroutine ends, then drop what it opened.
	if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
	go func() {
		if r := <-ch; r.f != nil {
			r.f.Close()
		}
	}()
	return nil, ctx.Err()
}

// spoolStreams copies every stream input of set into dir (made on first
// need by mkdir) and points the input's reads at the copy.
func spoolStreams(ctx context.Context, set *fileSet, mkdir func() (string, error)) error {
	for _, in := range set.inputs {
		if !streamInput(in.path) {
			continue
		}
		dir, err := mkdir()
		if err != nil {
			return err
		}
		p, err := spool(ctx, in.path, dir)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		in.copy = p
	}
	return nil
}

// file is the path to open for reading in: the input's copy when it was a
// stream, else its own path.
func (in *input) file() string {
	if in.copy != "" {
		return in.copy
	}
	return in.path
}

// openSet bounds how many files a case has open at once. A directory of
// 10,000 logs (one per site) would otherwise open them all: EMFILE under
// the usual limit of 1,024 open files, and megabytes of read-ahead each.
// Beyond the bound, the stream whose current line is latest (the one
// needed last) is parked: its file closed and a little of its read-ahead
// kept (lineReader.park), to be opened again where it stopped when the
// merge needs it. Plain files are parked before .gz ones, which must be
// decompressed again up to where they stopped.
type openSet struct {
	max  int
	open []*stream
	peak int // most streams open at once, for tests
}

func newOpenSet() *openSet {
	n := 256
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < 4*uint64(n) {
		// Leave three quarters of the limit to everything else.
		n = max(4, int(rl.Cur/4))
	}
	return &openSet{max: n}
}

// opened counts s, which was just opened and read its first line.
func (o *openSet) opened(s *stream) {
	s.inSet = true
	o.open = append(o.open, s)
	o.peak = max(o.peak, len(o.open))
	for len(o.open) > o.max {
		o.evict(s)
	}
}

// wake makes s, about to read on, one of the open streams.
func (o *openSet) wake(s *stream) {
	if s.inSet {
		return
	}
	for len(o.open) >= o.max {
		o.evict(s)
	}
	s.inSet = true
	o.open = append(o.open, s)
	o.peak = max(o.peak, len(o.open)) // it opens again when its kept bytes run out
}

func (o *openSet) closed(s *stream) {
	if i := slices.Index(o.open, s); i >= 0 {
		o.open = slices.Delete(o.open, i, i+1)
	}
	s.inSet = false
}

// evict parks the open stream, other than keep, needed last.
func (o *openSet) evict(keep *stream) {
	best := -1
	for i, s := range o.open {
		if s == keep {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := o.open[best]
		bgz, sgz := strings.HasSuffix(b.lr.path, ".gz"), strings.HasSuffix(s.lr.path, ".gz")
		if bgz != sgz {
			if bgz {
				best = i
			}
			continue
		}
		if s.epoch > b.epoch || s.epoch == b.epoch && s.head.Event.Time.After(b.head.Event.Time) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	o.open[best].park()
	o.open[best].inSet = false
	o.open = slices.Delete(o.open, best, best+1)
}

// park closes the stream's file; its current line is copied out of the
// reader's buffer first.
func (s *stream) park() {
	s.head.Event = s.head.Event.Clone()
	s.head.Text = append([]byte(nil), s.head.Text...)
	s.lr.park()
}
