package agent

import (
	"slices"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// commits records which acknowledgements ran, in order.
type commits []string

func (c *commits) fn(name string) func() { return func() { *c = append(*c, name) } }

func TestAckHold(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	genA := positions.Key{Path: "/var/log/nginx/access.log", Dev: 1, Ino: 10}
	genB := positions.Key{Path: "/var/log/nginx/access.log", Dev: 1, Ino: 11}

	t.Run("idle: commits at once", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, 0)
		h.ack(genA, got.fn("a1"), false)
		h.ack(genA, got.fn("a2"), false)
		if want := (commits{"a1", "a2"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v", got, want)
		}
	})

	t.Run("held from the first gateway status until the incident closed", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, 0)
		h.ack(genA, got.fn("a1"), false)
		h.gateway(at(0))
		h.ack(genA, got.fn("a2"), false) // the gateway line itself
		h.ack(genA, got.fn("a3"), false)
		h.ack(genB, got.fn("b1"), false) // the new generation after a rename
		h.ack(genA, got.fn("a4"), false) // the renamed one drained
		h.ack(genB, got.fn("b2"), false)
		h.ack(genB, got.fn("b3"), false)
		h.tick(at(time.Second), false) // not settled yet: no incident known
		h.incident("inc1", false)
		h.tick(at(3*time.Second), false) // settled, but open
		if want := (commits{"a1"}); !slices.Equal(got, want) {
			t.Fatalf("while open: commits %v, want %v", got, want)
		}
		if !h.active.Load() {
			t.Error("holding, but active is false: the positions file would be written")
		}
		h.incident("inc1", true)
		h.tick(at(4*time.Second), false)
		if h.active.Load() {
			t.Error("released, but active is still true: the positions file would never be written")
		}
		// Per generation only the latest, in delivery order.
		if want := (commits{"a1", "a3", "b1", "a4", "b3"}); !slices.Equal(got, want) {
			t.Fatalf("after close: commits %v, want %v", got, want)
		}
		h.ack(genB, got.fn("b4"), false)
		if got[len(got)-1] != "b4" {
			t.Errorf("after release an ack is not committed at once: %v", got)
		}
	})

	t.Run("a gateway status that has not settled keeps holding", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, 0)
		h.gateway(at(0))
		h.ack(genA, got.fn("a1"), false)
		h.tick(at(time.Second), false) // no incident open, but the status may still open one
		if len(got) != 0 {
			t.Fatalf("released before the gateway status settled: %v", got)
		}
		h.tick(at(2*time.Second), false)
		if want := (commits{"a1"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v", got, want)
		}
	})

	t.Run("a long outage is checkpointed every maxHold", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, 0)
		h.gateway(at(0))
		h.incident("outage", false)
		h.ack(genA, got.fn("a1"), false)
		h.tick(at(maxHold-time.Second), false)
		if len(got) != 0 {
			t.Fatalf("released before maxHold: %v", got)
		}
		h.tick(at(maxHold+time.Second), false)
		h.ack(genA, got.fn("a2"), false)
		if want := (commits{"a1"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v (a2 held again: the incident is still open)", got, want)
		}
	})

	t.Run("an idle correlator releases before the settle time", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, 0)
		h.gateway(at(0))
		h.incident("inc1", false)
		h.ack(genA, got.fn("a1"), false)
		h.tick(at(500*time.Millisecond), false)
		if len(got) != 0 {
			t.Fatalf("released while the correlator was busy: %v", got)
		}
		h.incident("inc1", true)
		h.tick(at(600*time.Millisecond), true) // closed, nothing settling
		if want := (commits{"a1"}); !slices.Equal(got, want) || h.active.Load() {
			t.Errorf("commits %v (active %v), want %v released", got, h.active.Load(), want)
		}
	})

	t.Run("release commits everything held (reload)", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, 0)
		h.gateway(at(0))
		h.ack(genA, got.fn("a1"), false)
		h.ack(genB, got.fn("b1"), false)
		h.release()
		h.ack(genA, got.fn("a2"), false)
		if want := (commits{"a1", "b1", "a2"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v", got, want)
		}
	})
}

// Signal logs trail by the lookback, so a crash during a burst re-reads the
// OOM kill or max_children warning that explains it, not just the burst.
func TestAckHoldTrail(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	kern := positions.Key{Path: "/var/log/kern.log", Dev: 1, Ino: 20}
	fpm := positions.Key{Path: "/var/log/php8.2-fpm.log", Dev: 1, Ino: 21}
	access := positions.Key{Path: "/var/log/nginx/access.log", Dev: 1, Ino: 22}
	const lag = 2 * time.Minute

	t.Run("commits once older than the lag, per second the latest", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, lag)
		h.tick(at(0), true)
		h.ack(kern, got.fn("k1"), true)
		h.ack(fpm, got.fn("f1"), true)
		h.ack(kern, got.fn("k2"), true) // same second: replaces k1, keeps its place
		h.ack(access, got.fn("x1"), false)
		if want := (commits{"x1"}); !slices.Equal(got, want) {
			t.Fatalf("at once: %v, want only the access log %v", got, want)
		}
		h.tick(at(10*time.Second), true)
		h.ack(fpm, got.fn("f2"), true)
		h.tick(at(lag-time.Second), true)
		if want := (commits{"x1"}); !slices.Equal(got, want) {
			t.Fatalf("before the lag: %v, want %v", got, want)
		}
		h.tick(at(lag+time.Second), true)
		if want := (commits{"x1", "k2", "f1"}); !slices.Equal(got, want) {
			t.Fatalf("after the lag of the first second: %v, want %v", got, want)
		}
		h.tick(at(lag+11*time.Second), true)
		if want := (commits{"x1", "k2", "f1", "f2"}); !slices.Equal(got, want) {
			t.Fatalf("after the lag of the second bucket: %v, want %v", got, want)
		}
		if len(h.trail) != 0 {
			t.Errorf("trail keeps %d buckets after all were committed", len(h.trail))
		}
	})

	t.Run("a hold freezes the trail back to its lookback", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, lag)
		h.tick(at(0), true)
		h.ack(kern, got.fn("old"), true) // older than the burst's lookback
		h.tick(at(90*time.Second), true)
		h.ack(kern, got.fn("oom"), true) // the OOM kill 60 s before the burst
		h.tick(at(150*time.Second), true)
		h.gateway(at(150 * time.Second))
		h.incident("inc1", false)
		h.ack(access, got.fn("x1"), false)
		h.tick(at(151*time.Second), false)
		if want := (commits{"old"}); !slices.Equal(got, want) {
			t.Fatalf("when the burst began: %v, want %v", got, want)
		}
		// Long past the OOM line's own lag, but the burst is still open.
		h.tick(at(260*time.Second), false)
		if want := (commits{"old"}); !slices.Equal(got, want) {
			t.Fatalf("while open: %v, want %v (the OOM line must be re-read after a crash)", got, want)
		}
		h.incident("inc1", true)
		h.tick(at(262*time.Second), true)
		if want := (commits{"old", "oom", "x1"}); !slices.Equal(got, want) {
			t.Fatalf("after close: %v, want %v (trail first, then the held lines)", got, want)
		}
	})

	t.Run("release commits the trail too (graceful stop, reload)", func(t *testing.T) {
		var got commits
		h := newAckHold(1250*time.Millisecond, lag)
		h.tick(at(0), true)
		h.ack(fpm, got.fn("f1"), true)
		h.release()
		if want := (commits{"f1"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v", got, want)
		}
	})
}
