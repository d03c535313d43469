package journal

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ExportKernel writes the kernel's messages of every boot (or of [since,
// until] when set) to w, as `journalctl -o short-iso-precise` lines, which
// the kernel parser reads like rsyslog's kern.log. dir, when not empty, is
// a journal directory to read instead of the host's. It selects
// _TRANSPORT=kernel rather than -k, which means this boot only: the OOM
// kill behind an incident may be from before a reboot. -q leaves out the
// "-- Boot … --" separators, so every line written is a message.
//
// A journalctl that is not installed gives an error wrapping
// exec.ErrNotFound; one that fails gives the first line it wrote to stderr.
func ExportKernel(ctx context.Context, w io.Writer, dir string, since, until time.Time) error {
	args := []string{"_TRANSPORT=kernel", "-o", "short-iso-precise", "--no-pager", "-q"}
	if dir != "" {
		args = append(args, "--directory="+dir)
	}
	if !since.IsZero() {
		args = append(args, "--since=@"+strconv.FormatInt(since.Unix(), 10))
	}
	if !until.IsZero() {
		args = append(args, "--until=@"+strconv.FormatInt(until.Unix()+1, 10))
	}
	cmd := exec.CommandContext(ctx, "journalctl", args...)
	stderr := &tailBuffer{max: 2048}
	cmd.Stdout, cmd.Stderr = w, stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n"); msg != "" {
			return errors.New(msg)
		}
	}
	return err
}
