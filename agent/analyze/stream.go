package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
