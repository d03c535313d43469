package source

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logWriter appends numbered lines like nginx: one write(2) per line, to a
// descriptor it reopens by path only when told (USR1).
type logWriter struct {
	path string

	mu     sync.Mutex // held per line; copytruncate holds it to pause the writer
	f      *os.File
	n      int
	reopen bool
}

func (w *logWriter) writeLine() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil || w.reopen {
		if w.f != nil {
			w.f.Close()
		}
		f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		w.f, w.reopen = f, false
	}
	w.n++
	_, err := fmt.Fprintf(w.f, "%08d 127.0.0.1 - - \"GET /index.php HTTP/1.1\" 502 166\n", w.n)
	return err
}

func (w *logWriter) renameRotate(to string) error {
	if err := os.Rename(w.path, to); err != nil {
		return err
	}
	time.Sleep(5 * time.Millisecond) // lines still go to the old file until USR1
	w.mu.Lock()
	w.reopen = true
	w.mu.Unlock()
	return nil
}

func (w *logWriter) copyTruncate(to string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, err := os.ReadFile(w.path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		return err
	}
	return os.Truncate(w.path, 0)
}

// tally is what the consumer saw, across restarts.
type tally struct {
	count          map[int]int
	distinct       atomic.Int64 // read by the test while a run goes on
	sinceSync      int          // lines received since the last successful Sync
	dups           int
	maxDupExcess   int // worst (duplicates in a run) - (sinceSync at the kill before it)
	allowedAtStart int
	dupsThisRun    int
}

// consume reads one run's lines until Run closes the channel, committing
// each and syncing the store every 20ms, as the agent would.
func consume(t *testing.T, tl *tail, ty *tally, done chan<- struct{}) {
	defer close(done)
	last := time.Now()
	for l := range tl.src.Lines() {
		n, err := strconv.Atoi(string(l.Text[:8]))
		if err != nil {
			t.Errorf("garbled line %q", l.Text)
			continue
		}
		ty.count[n]++
		if ty.count[n] == 1 {
			ty.distinct.Add(1)
		}
		if ty.count[n] > 1 {
			ty.dups++
			ty.dupsThisRun++
		}
		tl.src.Commit(l)
		ty.sinceSync++
		if time.Since(last) > 20*time.Millisecond {
			if err := tl.store.Sync(); err != nil {
				t.Error(err)
			}
			ty.sinceSync = 0
			last = time.Now()
		}
	}
}

func TestRotationTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~35s")
	}
	path, sp := setup(t)
	opt := testOptions()
	opt.PollInterval = 20 * time.Millisecond
	opt.RotatedIdle = 300 * time.Millisecond

	w := &logWriter{path: path}
	stopWriter := make(chan struct{})
	writerDone := make(chan error, 1)
	ty := &tally{count: make(map[int]int)}

	tl := startTail(t, path, sp, opt)
	consumed := make(chan struct{})
	go consume(t, tl, ty, consumed)

	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWriter:
				writerDone <- nil
				return
			case <-tick.C:
			}
			for range 10 { // ~2,000 lines/s
				if err := w.writeLine(); err != nil {
					writerDone <- err
					return
				}
			}
		}
	}()

	rotations, kills := 0, 0
	rotate := func() {
		to := fmt.Sprintf("%s.%d", path, rotations)
		var err error
		if rotations%2 == 0 {
			err = w.renameRotate(to)
		} else {
			err = w.copyTruncate(to)
		}
		if err != nil {
			t.Fatalf("rotation %d: %v", rotations, err)
		}
		rotations++
	}
	kill := func(rotateWhileDown bool) {
		tl.cancel() // no final Sync: only what the consumer synced survives
		<-consumed
		tl.kill()
		kills++
		excessBefore := ty.dupsThisRun - ty.allowedAtStart
		ty.maxDupExcess = max(ty.maxDupExcess, excessBefore)
		ty.allowedAtStart, ty.dupsThisRun = ty.sinceSync, 0
		time.Sleep(30 * time.Millisecond) // down: the writer goes on
		if rotateWhileDown {
			rotate()
			time.Sleep(30 * time.Millisecond)
		}
		tl = startTail(t, path, sp, opt)
		consumed = make(chan struct{})
		go consume(t, tl, ty, consumed)
	}

	for rotations < 200 {
		time.Sleep(120 * time.Millisecond)
		rotate()
		if rotations%10 == 5 {
			kill(kills%2 == 1)
		}
	}
	close(stopWriter)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	total := w.n

	// Let the last run catch up, then stop it like the others.
	for range 300 {
		if int(ty.distinct.Load()) >= total {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	tl.cancel()
	<-consumed
	ty.maxDupExcess = max(ty.maxDupExcess, ty.dupsThisRun-ty.allowedAtStart)

	lost := 0
	var firstLost []int
	for n := 1; n <= total; n++ {
		if ty.count[n] == 0 {
			lost++
			if len(firstLost) < 10 {
				firstLost = append(firstLost, n)
			}
		}
	}
	t.Logf("lines %d, lost %d, duplicated %d, rotations %d, kills %d", total, lost, ty.dups, rotations, kills)
	if lost > 0 {
		t.Errorf("%d lines lost, first %v (in %s)", lost, firstLost, whereIs(path, firstLost[0]))
	}
	if ty.maxDupExcess > 0 {
		t.Errorf("a restart duplicated %d lines more than were handled since the last checkpoint", ty.maxDupExcess)
	}
	if kills < 20 {
		t.Errorf("only %d kills", kills)
	}
}

// whereIs names the files (and offsets) holding line n, for failure messages.
func whereIs(path string, n int) string {
	matches, _ := filepath.Glob(path + "*")
	var out []string
	needle := []byte(fmt.Sprintf("%08d ", n))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if i := bytes.Index(data, needle); i >= 0 {
			out = append(out, fmt.Sprintf("%s@%d/%d", filepath.Base(m), i, len(data)))
		}
	}
	return strings.Join(out, ", ")
}
