package discover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"time"
)

// System is every way discovery touches the host, so tests run on fixtures.
// Discovery only reads: it runs `nginx -T` and `apache2ctl -S` / `httpd -S`
// (which test configuration and print it) and opens files.
type System struct {
	// FS is the root file system; paths are absolute ones without the
	// leading "/" ("etc/nginx/nginx.conf"). os.DirFS("/") on a host.
	FS fs.FS
	// Run runs a command and returns its standard output; a non-zero exit
	// is an error that carries standard error.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	// LookPath finds a binary as exec.LookPath does.
	LookPath func(name string) (string, error)
}

// commandTimeout bounds nginx -T and apache2ctl -S: a wedged binary must
// not hold discovery (or the agent's start) forever.
const commandTimeout = 10 * time.Second

// OS returns the System of the running host.
func OS() System {
	return System{
		FS: os.DirFS("/"),
		Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			ctx, cancel := context.WithTimeout(ctx, commandTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, name, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				return stdout.Bytes(), fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(stderr.Bytes()))
			}
			return stdout.Bytes(), nil
		},
		LookPath: exec.LookPath,
	}
}

// rel turns an absolute path into an fs.FS name.
func rel(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	return p
}

// exists reports whether the absolute path p can be stat'ed in fsys.
func exists(fsys fs.FS, p string) bool {
	_, err := fs.Stat(fsys, rel(p))
	return err == nil
}

// readable reports why the file at absolute path p cannot be opened for
// reading, or nil when it can.
// readable opens p to see that it can be read. The error is the bare
// reason ("permission denied"): callers name p themselves, and the
// fs.FS path inside a PathError lacks its leading slash.
func readable(fsys fs.FS, p string) error {
	f, err := fsys.Open(rel(p))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	return f.Close()
}
