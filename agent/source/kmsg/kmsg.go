// Package kmsg reads kernel log records from /dev/kmsg as they are
// written, so the agent sees OOM kills and segfaults within milliseconds.
//
// One read(2) of /dev/kmsg returns exactly one record,
// "prio,seq,usec,flags;text\n" followed by " KEY=value" dictionary lines
// (dropped here). When the reader falls behind the kernel's ring buffer the
// next read fails with EPIPE and the kernel skips to the oldest record it
// still has; the records lost are counted from the sequence numbers.
//
// Since Linux 5.10 the kernel merges continuation printks itself and a
// record becomes readable only when it is finished (a message without a
// trailing newline stays invisible until the next printk); kernels 3.5–4.8
// export unmerged fragments flagged 'c' and '+', which Run joins.
package kmsg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// DefaultPath is the kernel's record device.
const DefaultPath = "/dev/kmsg"

// ErrNotPermitted is returned (wrapped) by Open when the kernel refuses to
// let this process read its log: with kernel.dmesg_restrict=1 only root or
// a process with CAP_SYSLOG may. Callers fall back to another kernel
// source (journal, kern.log) when errors.Is(err, ErrNotPermitted).
var ErrNotPermitted = errors.New("reading /dev/kmsg is not permitted: run origin-agent as root " +
	"or grant it CAP_SYSLOG (systemd: AmbientCapabilities=CAP_SYSLOG), " +
	"or set sources.kernel to \"journal\" or a kern.log path")

// Start says where a new Reader begins.
type Start uint8

const (
	// StartEnd skips what is in the buffer and reads only new records
	// (lseek SEEK_END). The default.
	StartEnd Start = iota
	// StartBuffer reads every record still in the kernel's ring buffer
	// first (lseek SEEK_SET 0), then new ones.
	StartBuffer
	// StartAfterClear reads the buffer from the point of the last
	// "dmesg --clear" (lseek SEEK_DATA).
	StartAfterClear
	// StartRecent reads the records of the last Options.Recent still in
	// the buffer, then new ones: a restarted agent sees the OOM kill of a
	// minute ago that explains the errors it is about to re-read.
	StartRecent
)

// Options configure Open. The zero value reads /dev/kmsg from its end.
type Options struct {
	Path  string // default DefaultPath
	Start Start
	// Recent is how far back StartRecent reaches (by the records' wall
	// time at Open).
	Recent time.Duration
	Log    *slog.Logger // nil: discard
	// FlushAfter is how long a fragment run of an old kernel ('c', '+'
	// flags) waits for its next fragment before it is sent as it is.
	// Default 100 ms.
	FlushAfter time.Duration
	// Overruns, when set, counts what Reader.Overruns counts, for
	// /metrics (see NewOverruns).
	Overruns prometheus.Counter
}

// Record is one whole kernel message.
type Record struct {
	// Line is the record as "prio,seq,usec,-;text" without dictionary
	// lines or newline; fragments are joined into one line. It is a new
	// slice the receiver owns; parsers/kernel parses it.
	Line []byte
	Seq  uint64
	// Time is the wall-clock time of the record, derived from its
	// monotonic stamp (see Reader.Run for the approximation).
	Time time.Time
	// CaughtUp marks the one empty Record sent after a reader not started
	// at StartEnd has read what the buffer held at Open: a consumer
	// may wait for it before it reads other logs, so that what the kernel
	// said before comes first.
	CaughtUp bool
}

// caughtUpWait is how long a read must find nothing for the buffer to
// count as read.
const caughtUpWait = 50 * time.Millisecond

// device is what Run needs of /dev/kmsg: one record per Read, EPIPE on
// overrun, EINVAL when p is too small, a deadline to wake up, and a Close
// that unblocks a Read in progress. *os.File on a non-blocking fd is one.
type device interface {
	Read(p []byte) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// clockFunc returns the wall clock and CLOCK_MONOTONIC at the same moment.
type clockFunc func() (wall time.Time, mono time.Duration)

// Reader reads /dev/kmsg. Create it with Open, call Run once, then Close.
type Reader struct {
	path       string
	dev        device
	log        *slog.Logger
	clock      clockFunc
	flushAfter time.Duration
	bufSize    int
	since      time.Time // StartRecent: records before it are skipped (Run's goroutine only)
	// replayed is nil at StartEnd; otherwise Run sends a CaughtUp record
	// after the buffer, and Input closes replayed when it converts it.
	replayed   chan struct{}
	metric     prometheus.Counter // Options.Overruns
	replayOnce sync.Once

	closeOnce sync.Once
	closeErr  error

	overruns atomic.Uint64
	lost     atomic.Uint64
}

const (
	initialBuf = 16 << 10 // records are at most 8 KiB (CONSOLE_EXT_LOG_MAX); the kernel says EINVAL if p is smaller
	maxBuf     = 1 << 20
)

// Open opens the device and positions it per o.Start. It returns an error
// wrapping ErrNotPermitted (and fs.ErrPermission) when the kernel refuses.
func Open(o Options) (*Reader, error) {
	path := o.Path
	if path == "" {
		path = DefaultPath
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("open %s: %w: %w", path, ErrNotPermitted, &fs.PathError{Op: "open", Path: path, Err: err})
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	whence := unix.SEEK_END
	switch o.Start {
	case StartBuffer, StartRecent:
		whence = unix.SEEK_SET
	case StartAfterClear:
		whence = unix.SEEK_DATA
	}
	if _, err := unix.Seek(fd, 0, whence); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("seek %s: %w", path, err)
	}
	// A non-blocking fd goes to Go's poller: Read parks the goroutine,
	// Close and deadlines wake it.
	f := os.NewFile(uintptr(fd), path)
	return newReader(path, f, o, monotonicClock), nil
}

func newReader(path string, dev device, o Options, clock clockFunc) *Reader {
	r := &Reader{path: path, dev: dev, log: o.Log, clock: clock, flushAfter: o.FlushAfter, bufSize: initialBuf}
	if o.Start == StartRecent {
		wall, _ := clock()
		r.since = wall.Add(-o.Recent)
	}
	if o.Start != StartEnd {
		r.replayed = make(chan struct{})
	}
	r.metric = o.Overruns
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.flushAfter <= 0 {
		r.flushAfter = 100 * time.Millisecond
	}
	return r
}

// Overruns is how many times the reader fell behind the ring buffer.
func (r *Reader) Overruns() uint64 { return r.overruns.Load() }

// overrun counts one time the reader fell behind.
func (r *Reader) overrun() {
	r.overruns.Add(1)
	if r.metric != nil {
		r.metric.Inc()
	}
}

// NewOverruns registers origin_agent_kmsg_overruns_total on reg, for
// Options.Overruns: one counter for the process, kept across the readers
// a reload opens.
func NewOverruns(reg prometheus.Registerer) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "origin_agent_kmsg_overruns_total", Help: "Times the /dev/kmsg reader fell behind the kernel ring buffer (records lost).",
	})
	return c, reg.Register(c)
}

// Lost is how many records were overwritten before they could be read.
func (r *Reader) Lost() uint64 { return r.lost.Load() }

// Close releases the device; a Run in progress returns. It is safe to
// call more than once and concurrently with Run.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.dev.Close() })
	return r.closeErr
}

// Run reads records and sends them to out until ctx is cancelled or the
// device fails. It must be called at most once.
//
// Contract: Run never closes out (the caller owns it); every send selects
// on ctx.Done(), so a reader that stops draining out cannot block
// shutdown. On cancellation Run closes the device and returns ctx.Err();
// after Close it returns an error wrapping os.ErrClosed. Overruns are
// logged once each and counted (Overruns, Lost); they are not errors.
//
// Time: the kernel stamps records with local_clock(), which like
// CLOCK_MONOTONIC does not advance during suspend. Each record's wall
// time is now - (CLOCK_MONOTONIC now - stamp), computed when it is read,
// so NTP steps and suspends are followed; records read long after they
// were written (StartBuffer after a suspend) are off by the time spent
// suspended, and the two clocks may differ by a few milliseconds.
func (r *Reader) Run(ctx context.Context, out chan<- Record) error {
	stop := context.AfterFunc(ctx, func() { r.Close() })
	defer stop()

	var (
		asm     assembler
		overrun bool
		buf     = make([]byte, r.bufSize)
		sendErr error
	)
	emit := func(h Header, line []byte) {
		if sendErr != nil {
			return
		}
		rec := Record{Line: line, Seq: h.Seq, Time: r.wallTime(h.Usec)}
		if !r.since.IsZero() {
			if rec.Time.Before(r.since) {
				return // older than StartRecent reaches
			}
			r.since = time.Time{} // the buffer is in time order: the rest is newer
		}
		select {
		case out <- rec:
		case <-ctx.Done():
			sendErr = ctx.Err()
		}
	}
	replaying := r.replayed != nil
	caughtUp := func() {
		replaying = false
		select {
		case out <- Record{CaughtUp: true}:
		case <-ctx.Done():
			sendErr = ctx.Err()
		}
	}
	for {
		deadline := time.Time{}
		if asm.pending {
			deadline = time.Now().Add(r.flushAfter)
		}
		if replaying && (deadline.IsZero() || deadline.After(time.Now().Add(caughtUpWait))) {
			deadline = time.Now().Add(caughtUpWait)
		}
		if err := r.dev.SetReadDeadline(deadline); err != nil {
			if asm.pending {
				asm.flush(emit) // no deadlines on this device: do not wait for more fragments
			}
			if replaying {
				caughtUp() // nor for the end of the buffer
			}
		}
		if sendErr != nil {
			return sendErr
		}
		n, err := r.dev.Read(buf)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			asm.flush(emit)
			if replaying && sendErr == nil {
				caughtUp()
			}
			if sendErr != nil {
				return sendErr
			}
			continue
		case errors.Is(err, syscall.EPIPE):
			r.overrun()
			overrun = true
			continue
		case errors.Is(err, syscall.EINVAL) && len(buf) < maxBuf:
			// The record does not fit; the kernel did not consume it.
			buf = make([]byte, 2*len(buf))
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			return fmt.Errorf("read %s: %w", r.path, err)
		}
		h, text, perr := ParseRecord(buf[:n])
		if perr != nil {
			r.log.Warn("kmsg: skipping a record that does not parse", "path", r.path, "err", perr)
			continue
		}
		if lost := asm.gap(h.Seq); lost > 0 || overrun {
			r.lost.Add(lost)
			if overrun {
				r.log.Warn("kmsg: kernel log records were overwritten before they were read",
					"path", r.path, "lost", lost, "next_seq", h.Seq)
			} else {
				// A gap without EPIPE: still lost records, count it as an overrun.
				r.overrun()
				r.log.Warn("kmsg: gap in kernel log sequence numbers", "path", r.path, "lost", lost, "next_seq", h.Seq)
			}
			overrun = false
		}
		asm.add(h, text, emit)
		if sendErr != nil {
			return sendErr
		}
	}
}

// wallTime converts a record's monotonic stamp (µs) to wall time.
func (r *Reader) wallTime(usec uint64) time.Time {
	wall, mono := r.clock()
	stamp := time.Duration(usec) * time.Microsecond
	return wall.Add(stamp - mono).Round(time.Microsecond)
}

func monotonicClock() (time.Time, time.Duration) {
	var ts unix.Timespec
	now := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return now, 0 // cannot happen on Linux; a zero offset keeps times finite
	}
	return now, time.Duration(ts.Nano())
}
