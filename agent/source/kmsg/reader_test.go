package kmsg

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// step is one scripted Read result of fakeDevice.
type step struct {
	rec string
	err error
}

// fakeDevice replays steps, one per Read, like /dev/kmsg: EINVAL when p
// is too small (without consuming the record). When the script is used up
// it reports an expired deadline if one is set, else blocks until Close.
type fakeDevice struct {
	mu       sync.Mutex
	steps    []step
	deadline time.Time
	closed   chan struct{}
	once     sync.Once
}

func newFake(steps ...step) *fakeDevice {
	return &fakeDevice{steps: steps, closed: make(chan struct{})}
}

func (d *fakeDevice) Read(p []byte) (int, error) {
	d.mu.Lock()
	if len(d.steps) > 0 {
		s := d.steps[0]
		if s.err == nil && len(p) < len(s.rec) {
			d.mu.Unlock()
			return 0, syscall.EINVAL
		}
		d.steps = d.steps[1:]
		d.mu.Unlock()
		if s.err != nil {
			return 0, &os.PathError{Op: "read", Path: "/dev/kmsg", Err: s.err}
		}
		return copy(p, s.rec), nil
	}
	dl := d.deadline
	d.mu.Unlock()
	if !dl.IsZero() {
		return 0, os.ErrDeadlineExceeded
	}
	<-d.closed
	return 0, os.ErrClosed
}

func (d *fakeDevice) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	d.deadline = t
	d.mu.Unlock()
	return nil
}

func (d *fakeDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

// fixedClock says it is 2026-11-20 10:00:00 UTC and 1000 s since boot.
func fixedClock() (time.Time, time.Duration) {
	return time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 1000 * time.Second
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// collect runs a Reader over dev until it has read want records, then
// cancels it and returns the records and Run's error.
func collect(t *testing.T, dev *fakeDevice, want int) (*Reader, []Record, error) {
	t.Helper()
	return collectWith(t, dev, Options{Log: quietLogger(), FlushAfter: time.Millisecond}, want, 0)
}

// collectWith is collect with options, and after the want records it keeps
// reading for linger, so that a test can see there are no more.
func collectWith(t *testing.T, dev *fakeDevice, o Options, want int, linger time.Duration) (*Reader, []Record, error) {
	t.Helper()
	r := newReader("/dev/kmsg", dev, o, fixedClock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Record)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, out) }()
	var got []Record
	for len(got) < want {
		select {
		case rec := <-out:
			got = append(got, rec)
		case err := <-done:
			t.Fatalf("Run returned %v after %d of %d records", err, len(got), want)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d records", len(got), want)
		}
	}
	if linger > 0 {
		end := time.After(linger)
		for lingering := true; lingering; {
			select {
			case rec := <-out:
				got = append(got, rec)
			case <-end:
				lingering = false
			}
		}
	}
	cancel()
	return r, got, <-done
}

func lines(recs []Record) []string {
	var s []string
	for _, r := range recs {
		s = append(s, string(r.Line))
	}
	return s
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRunOverrun(t *testing.T) {
	dev := newFake(
		step{rec: "6,100,999000000,-;one\n"},
		step{rec: "6,101,999000001,-;two\n SUBSYSTEM=net\n"},
		step{err: syscall.EPIPE},
		step{rec: "6,140,999500000,-;after overrun\n"},
		step{rec: "6,141,999500001,-;next\n"},
		step{err: syscall.EPIPE},
		step{rec: "6,150,999600000,-;second overrun\n"},
	)
	metric := prometheus.NewCounter(prometheus.CounterOpts{Name: "overruns"})
	r, got, err := collectWith(t, dev, Options{Log: quietLogger(), FlushAfter: time.Millisecond, Overruns: metric}, 5, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v; want context.Canceled", err)
	}
	want := []string{
		"6,100,999000000,-;one", "6,101,999000001,-;two",
		"6,140,999500000,-;after overrun", "6,141,999500001,-;next",
		"6,150,999600000,-;second overrun",
	}
	if g := lines(got); !equal(g, want) {
		t.Fatalf("lines = %q; want %q", g, want)
	}
	if r.Overruns() != 2 || r.Lost() != 38+8 {
		t.Fatalf("Overruns, Lost = %d, %d; want 2, 46", r.Overruns(), r.Lost())
	}
	if n := testutil.ToFloat64(metric); n != 2 {
		t.Errorf("Options.Overruns counted %v; want 2", n)
	}
	// 999 s after boot is 1 s before the fixed clock's 1000 s.
	if want := time.Date(2026, 11, 20, 9, 59, 59, 0, time.UTC); !got[0].Time.Equal(want) {
		t.Fatalf("Time = %v; want %v", got[0].Time, want)
	}
	if got[2].Seq != 140 {
		t.Fatalf("Seq = %d; want 140", got[2].Seq)
	}
}

func TestRunGapWithoutEPIPE(t *testing.T) {
	dev := newFake(step{rec: "6,1,1,-;a"}, step{rec: "6,5,2,-;b"})
	r, _, _ := collect(t, dev, 2)
	if r.Overruns() != 1 || r.Lost() != 3 {
		t.Fatalf("Overruns, Lost = %d, %d; want 1, 3", r.Overruns(), r.Lost())
	}
}

func TestRunFragments(t *testing.T) {
	dev := newFake(
		step{rec: "6,10,100,-;whole"},
		step{rec: "4,11,200,c;CPU0: "},
		step{rec: "4,12,201,+;Intel(R) Xeon"},
		step{rec: "4,13,202,+; stepping 04"},
		step{rec: "6,14,300,-;after"},
		step{rec: "6,15,400,c;alone "},
		step{rec: "6,16,401,+;idle flush"},
		// script ends: the device goes idle and the run is flushed.
	)
	_, got, _ := collect(t, dev, 4)
	want := []string{
		"6,10,100,-;whole",
		"4,11,200,-;CPU0: Intel(R) Xeon stepping 04",
		"6,14,300,-;after",
		"6,15,400,-;alone idle flush",
	}
	if g := lines(got); !equal(g, want) {
		t.Fatalf("lines = %q; want %q", g, want)
	}
}

func TestRunGrowsBufferOnEINVAL(t *testing.T) {
	big := make([]byte, 40<<10)
	for i := range big {
		big[i] = 'x'
	}
	dev := newFake(step{rec: "6,1,1,-;" + string(big)}, step{rec: "6,2,2,-;small"})
	_, got, _ := collect(t, dev, 2)
	if len(got[0].Line) != len("6,1,1,-;")+len(big) || string(got[1].Line) != "6,2,2,-;small" {
		t.Fatalf("got %d-byte and %q records", len(got[0].Line), got[1].Line)
	}
}

func TestRunReadError(t *testing.T) {
	dev := newFake(step{rec: "6,1,1,-;a"}, step{err: syscall.EIO})
	r := newReader("/dev/kmsg", dev, Options{Log: quietLogger()}, fixedClock)
	out := make(chan Record, 4)
	err := r.Run(context.Background(), out)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("Run = %v; want EIO", err)
	}
	if len(out) != 1 {
		t.Fatalf("%d records before the error; want 1", len(out))
	}
}

// A consumer that stops reading must not block cancellation.
func TestRunCancelWhileSending(t *testing.T) {
	dev := newFake(step{rec: "6,1,1,-;a"}, step{rec: "6,2,2,-;b"})
	r := newReader("/dev/kmsg", dev, Options{Log: quietLogger()}, fixedClock)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Record) // never read
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, out) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunAfterClose(t *testing.T) {
	dev := newFake()
	r := newReader("/dev/kmsg", dev, Options{Log: quietLogger()}, fixedClock)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Run(context.Background(), make(chan Record)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Run after Close = %v; want os.ErrClosed", err)
	}
}

// StartRecent skips the buffered records older than Recent and passes the
// rest, in order, then one caught-up mark. fixedClock puts boot 1000 s
// before now.
func TestRunStartRecent(t *testing.T) {
	dev := newFake(
		step{rec: "6,1,5000000,-;boot: long ago\n"},
		step{rec: "3,2,850000000,-;oom-kill: 150 s ago\n"},
		step{rec: "3,3,900000000,-;Out of memory: Killed process 4121 (php-fpm8.2) 100 s ago\n"},
		step{rec: "6,4,999000000,-;one second ago\n"},
	)
	o := Options{Start: StartRecent, Recent: 2 * time.Minute, Log: quietLogger(), FlushAfter: time.Millisecond}
	_, got, _ := collectWith(t, dev, o, 3, 4*caughtUpWait)
	want := []string{"3,3,900000000,-;Out of memory: Killed process 4121 (php-fpm8.2) 100 s ago", "6,4,999000000,-;one second ago"}
	if !equal(lines(got[:2]), want) || got[0].CaughtUp || got[1].CaughtUp {
		t.Errorf("records %q, want %q", lines(got[:2]), want)
	}
	if !got[2].CaughtUp || got[2].Line != nil {
		t.Errorf("third record %+v, want the caught-up mark", got[2])
	}
	if len(got) != 3 {
		t.Errorf("%d more records: one caught-up mark only", len(got)-3)
	}
}

// A reader started at the end has no buffer to catch up with: no mark.
func TestRunStartEndSendsNoMark(t *testing.T) {
	_, got, _ := collectWith(t, newFake(step{rec: "6,1,999000000,-;one\n"}), Options{Log: quietLogger()}, 1, 4*caughtUpWait)
	if got[0].CaughtUp {
		t.Fatalf("first record is a mark: %+v", got[0])
	}
	if len(got) != 1 {
		t.Errorf("a StartEnd reader sent %+v", got[1:])
	}
}
