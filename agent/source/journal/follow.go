// Package journal follows the kernel messages systemd-journald stored, by
// running `journalctl -k -f -o json`. It is the agent's fallback kernel
// source when /dev/kmsg is not readable (kernel.dmesg_restrict and no
// CAP_SYSLOG: journalctl only needs the systemd-journal group).
//
// The position is the journal cursor of the last entry handled; a
// restarted journalctl resumes with --after-cursor, and a CursorFile keeps
// it (with the entry's time) across agent restarts. An agent restarted
// after a crash may start Replay before that entry instead, so that the
// kernel lines which explain the logs it re-reads are read again too.
package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/internal/stateown"
)

// ErrUnavailable is returned (wrapped) by Run when the journalctl command
// cannot be started at all (not installed): use another kernel source.
var ErrUnavailable = errors.New("journalctl is not available: install systemd or set sources.kernel to a kern.log path")

// Options configure a Follower. The zero value runs journalctl from PATH
// and starts at the end of the journal.
type Options struct {
	// Command is the program and leading arguments to run; the follow
	// arguments are appended. Default ["journalctl"]. Tests put a fake here.
	Command []string
	// Cursor resumes after this entry. Empty: CursorFile's content, else
	// start with new entries only.
	Cursor string
	// CursorFile, when set, is read at start and rewritten (atomically,
	// mode 0600) at most every SaveEvery and whenever journalctl stops.
	// It holds the cursor and, on a second line, its entry's time.
	CursorFile string
	// Replay, when positive and the saved cursor's time is known, makes
	// the first journalctl start Replay before that entry (--since)
	// rather than after it. Later restarts within Run resume after the
	// cursor as always.
	Replay    time.Duration
	SaveEvery time.Duration // default 1 s
	// RestartDelay is the pause before journalctl is started again after
	// it exited. Default 1 s.
	RestartDelay time.Duration
	Log          *slog.Logger // nil: discard
}

// Follower runs journalctl and turns its output into Entries.
type Follower struct {
	o   Options
	log *slog.Logger

	mu         sync.Mutex
	cursor     string
	cursorTime time.Time // the cursor's entry's time, zero when unknown
	saved      string
	lastSave   time.Time
	replayFrom time.Time // Replay: the first start's --since; zero afterwards
}

// New returns a Follower. It reads o.CursorFile when o.Cursor is empty; a
// missing file is not an error.
func New(o Options) (*Follower, error) {
	if len(o.Command) == 0 {
		o.Command = []string{"journalctl"}
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = time.Second
	}
	if o.RestartDelay <= 0 {
		o.RestartDelay = time.Second
	}
	f := &Follower{o: o, log: o.Log, cursor: o.Cursor}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.cursor == "" && o.CursorFile != "" {
		b, err := os.ReadFile(o.CursorFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read cursor file: %w", err)
		}
		cur, when, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		f.cursor = strings.TrimSpace(cur)
		if when = strings.TrimSpace(when); when != "" {
			t, err := time.Parse(time.RFC3339Nano, when)
			if err != nil {
				// The cursor alone still resumes without loss.
				f.log.Warn("journal: the cursor file's time does not parse; resuming after the cursor", "path", o.CursorFile+":2", "err", err)
			}
			f.cursorTime = t
		}
	}
	if o.Replay > 0 && f.cursor != "" && !f.cursorTime.IsZero() {
		f.replayFrom = f.cursorTime.Add(-o.Replay)
	}
	f.saved = f.cursor
	return f, nil
}

// Cursor returns the cursor of the last entry sent (or the start cursor).
func (f *Follower) Cursor() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

// Args returns the arguments appended to Command for a follow from
// cursor ("" = from the end).
func Args(cursor string) []string {
	args := followArgs()
	if cursor == "" {
		return append(args, "--lines=0")
	}
	return append(args, "--after-cursor="+cursor)
}

// Run follows the journal and sends each kernel entry to out until ctx is
// cancelled. When journalctl exits it is started again after RestartDelay,
// after the last cursor sent, so no entry is lost or repeated.
//
// Contract: Run never closes out; every send selects on ctx.Done(). On
// cancellation Run stops journalctl, saves the cursor and returns
// ctx.Err(). It returns an error wrapping ErrUnavailable at once if the
// command cannot be started. Lines that do not parse are logged and
// skipped. The cursor advances only after an entry was sent.
func (f *Follower) Run(ctx context.Context, out chan<- Entry) error {
	defer f.save(true)
	for {
		err := f.runOnce(ctx, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("start %s: %w: %w", f.o.Command[0], ErrUnavailable, err)
		}
		f.save(true)
		f.log.Warn("journal: journalctl stopped; restarting", "err", err, "after", f.o.RestartDelay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.o.RestartDelay):
		}
	}
}

// ArgsSince returns the arguments appended to Command for a follow from
// the entries at or after t (whole seconds, rounded down).
func ArgsSince(t time.Time) []string {
	return append(followArgs(), fmt.Sprintf("--since=@%d", t.Unix()))
}

// followArgs are the arguments of every follow: kernel entries as JSON.
func followArgs() []string { return []string{"-k", "-f", "-o", "json", "--all", "--no-pager"} }

func (f *Follower) runOnce(ctx context.Context, out chan<- Entry) error {
	follow := Args(f.Cursor())
	f.mu.Lock()
	if !f.replayFrom.IsZero() {
		follow = ArgsSince(f.replayFrom)
		f.replayFrom = time.Time{} // a restart within Run resumes after the cursor
	}
	f.mu.Unlock()
	args := append(append([]string{}, f.o.Command[1:]...), follow...)
	cmd := exec.CommandContext(ctx, f.o.Command[0], args...)
	cmd.WaitDelay = 2 * time.Second
	stderr := &tailBuffer{max: 2048}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("journalctl stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var sendErr error
	for sc.Scan() {
		e, err := ParseEntry(sc.Bytes())
		if err != nil {
			f.log.Warn("journal: skipping a line that does not parse", "err", err)
			continue
		}
		select {
		case out <- e:
		case <-ctx.Done():
			sendErr = ctx.Err()
		}
		if sendErr != nil {
			break
		}
		if e.Cursor != "" {
			f.mu.Lock()
			f.cursor, f.cursorTime = e.Cursor, e.Time
			f.mu.Unlock()
			f.save(false)
		}
	}
	scanErr := sc.Err()
	if scanErr != nil {
		cmd.Process.Kill() // a line over 4 MiB: start again after the last cursor
	}
	waitErr := cmd.Wait()
	switch {
	case sendErr != nil:
		return sendErr
	case scanErr != nil:
		return fmt.Errorf("read journalctl output: %w", scanErr)
	case waitErr != nil:
		return fmt.Errorf("journalctl: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return fmt.Errorf("journalctl exited: %s", strings.TrimSpace(stderr.String()))
}

// save writes the cursor file when the cursor changed, at most every
// SaveEvery unless force.
func (f *Follower) save(force bool) {
	if f.o.CursorFile == "" {
		return
	}
	f.mu.Lock()
	cur, when := f.cursor, f.cursorTime
	due := cur != f.saved && (force || time.Since(f.lastSave) >= f.o.SaveEvery)
	f.mu.Unlock()
	if !due {
		return
	}
	data := cur + "\n"
	if !when.IsZero() {
		data += when.UTC().Format(time.RFC3339Nano) + "\n"
	}
	// Atomic, 0600, and a root run leaves it the service's.
	if err := stateown.WriteFile(f.o.CursorFile, []byte(data), 0o600); err != nil {
		f.log.Warn("journal: cannot save the cursor", "err", err)
		return
	}
	f.mu.Lock()
	f.saved, f.lastSave = cur, time.Now()
	f.mu.Unlock()
}

// tailBuffer keeps the last max bytes written (journalctl's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
