package spool

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

func testFinding(id string, pad int) finding.Finding {
	return finding.Finding{
		Schema: finding.Schema, ID: id, IncidentID: "inc", Kind: finding.KindIncident, State: finding.StateOpened,
		Severity: finding.SeverityCritical, Host: "web1",
		Incident: correlate.Incident{ID: "inc", Cause: correlate.CauseOOMKill, Summary: strings.Repeat("x", pad),
			Start: time.Date(2026, 11, 20, 10, 1, 2, 0, time.UTC), End: time.Date(2026, 11, 20, 10, 1, 40, 0, time.UTC)},
	}
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Finding.ID)
	}
	return out
}

func TestAppendPeekRemoveReopen(t *testing.T) {
	dir := t.TempDir()
	sp, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := sp.Append(testFinding(id, 10)); err != nil {
			t.Fatal(err)
		}
	}
	es, err := sp.Peek(3)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids(es), ","); got != "a,b,c" {
		t.Fatalf("Peek(3) = %s, want a,b,c", got)
	}
	if es[0].Finding.Cause != correlate.CauseOOMKill || es[0].Appended.IsZero() {
		t.Errorf("entry not decoded: %+v", es[0])
	}
	// Partial confirmation: b is removed out of order.
	if err := sp.Remove(es[1].Seq); err != nil {
		t.Fatal(err)
	}
	if sp.Len() != 3 {
		t.Errorf("Len = %d, want 3", sp.Len())
	}
	bytesBefore := sp.Bytes()
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Append(testFinding("late", 1)); err != ErrClosed {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}

	sp, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.Len() != 3 || sp.Bytes() != bytesBefore {
		t.Errorf("after reopen Len=%d Bytes=%d, want 3 %d", sp.Len(), sp.Bytes(), bytesBefore)
	}
	if err := sp.Append(testFinding("e", 10)); err != nil {
		t.Fatal(err)
	}
	es, _ = sp.Peek(10)
	if got := strings.Join(ids(es), ","); got != "a,c,d,e" {
		t.Fatalf("after reopen = %s, want a,c,d,e", got)
	}
	select {
	case <-sp.Notify():
	default:
		t.Error("no notification after Append")
	}
}

func TestBoundDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	one := len(mustJSON(t, testFinding("f00", 200))) + 8
	var dropped, droppedBytes int64
	var mu sync.Mutex
	sp, err := Open(dir, int64(3*one), WithDropHook(func(n int, b int64) {
		mu.Lock()
		dropped += int64(n)
		droppedBytes += b
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	for i := range 5 {
		if err := sp.Append(testFinding(fmt.Sprintf("f%02d", i), 200)); err != nil {
			t.Fatal(err)
		}
	}
	es, _ := sp.Peek(10)
	if got := strings.Join(ids(es), ","); got != "f02,f03,f04" {
		t.Fatalf("kept %s, want f02,f03,f04 (oldest dropped first)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if dropped != 2 || droppedBytes != int64(2*one) {
		t.Errorf("drop hook saw %d entries / %d bytes, want 2 / %d", dropped, droppedBytes, 2*one)
	}
	if sp.Bytes() != int64(3*one) || sp.Len() != 3 {
		t.Errorf("Bytes=%d Len=%d, want %d 3", sp.Bytes(), sp.Len(), 3*one)
	}
	if err := sp.Append(testFinding("huge", 4*one)); err == nil {
		t.Error("Append of a finding larger than the bound succeeded")
	}
}

func TestConcurrentAppendsKeepEveryEntry(t *testing.T) {
	sp, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := sp.Append(testFinding(fmt.Sprintf("g%d-%d", g, i), 50)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	es, _ := sp.Peek(1000)
	seen := map[string]bool{}
	last := map[string]int{}
	for i, e := range es {
		if i > 0 && e.Seq <= es[i-1].Seq {
			t.Fatalf("sequence not increasing at %d", i)
		}
		seen[e.Finding.ID] = true
		var g, n int
		fmt.Sscanf(e.Finding.ID, "g%d-%d", &g, &n)
		if prev, ok := last[fmt.Sprint(g)]; ok && n <= prev {
			t.Errorf("goroutine %d: %d after %d, order lost", g, n, prev)
		}
		last[fmt.Sprint(g)] = n
	}
	if len(seen) != 400 || sp.Len() != 400 {
		t.Errorf("%d distinct / Len %d, want 400", len(seen), sp.Len())
	}
}

// BenchmarkAppendParallel measures findings/s into the spool with group
// commit: many goroutines share each fsync.
func BenchmarkAppendParallel(b *testing.B) {
	sp, err := Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	f := testFinding("bench", 600)
	b.SetBytes(int64(len(mustJSON(b, f))))
	b.ReportAllocs()
	b.SetParallelism(32) // 32 × GOMAXPROCS appenders
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := sp.Append(f); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "findings/s")
}

// BenchmarkAppendSerial is one appender: one fsync per finding.
func BenchmarkAppendSerial(b *testing.B) {
	sp, err := Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	f := testFinding("bench", 600)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if err := sp.Append(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "findings/s")
}

// TestOpenLockedSays: a second open of a spool another holder has (a
// running daemon) fails with ErrLocked after the lock timeout, so that
// callers can tell "busy" from "broken".
func TestOpenLockedSays(t *testing.T) {
	dir := t.TempDir()
	held, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := Open(dir, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	held.Close()
	again, err := Open(dir, 0)
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	again.Close()
}
