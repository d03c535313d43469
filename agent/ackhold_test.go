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
		h := newAckHold(1250 * time.Millisecond)
		h.ack(genA, got.fn("a1"))
		h.ack(genA, got.fn("a2"))
		if want := (commits{"a1", "a2"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v", got, want)
		}
	})

	t.Run("held from the first gateway status until the incident closed", func(t *testing.T) {
		var got commits
		h := newAckHold(1250 * time.Millisecond)
		h.ack(genA, got.fn("a1"))
		h.gateway(at(0))
		h.ack(genA, got.fn("a2")) // the gateway line itself
		h.ack(genA, got.fn("a3"))
		h.ack(genB, got.fn("b1")) // the new generation after a rename
		h.ack(genA, got.fn("a4")) // the renamed one drained
		h.ack(genB, got.fn("b2"))
		h.ack(genB, got.fn("b3"))
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
		h.ack(genB, got.fn("b4"))
		if got[len(got)-1] != "b4" {
			t.Errorf("after release an ack is not committed at once: %v", got)
		}
	})

	t.Run("a gateway status that has not settled keeps holding", func(t *testing.T) {
		var got commits
		h := newAckHold(1250 * time.Millisecond)
		h.gateway(at(0))
		h.ack(genA, got.fn("a1"))
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
		h := newAckHold(1250 * time.Millisecond)
		h.gateway(at(0))
		h.incident("outage", false)
		h.ack(genA, got.fn("a1"))
		h.tick(at(maxHold-time.Second), false)
		if len(got) != 0 {
			t.Fatalf("released before maxHold: %v", got)
		}
		h.tick(at(maxHold+time.Second), false)
		h.ack(genA, got.fn("a2"))
		if want := (commits{"a1"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v (a2 held again: the incident is still open)", got, want)
		}
	})

	t.Run("an idle correlator releases before the settle time", func(t *testing.T) {
		var got commits
		h := newAckHold(1250 * time.Millisecond)
		h.gateway(at(0))
		h.incident("inc1", false)
		h.ack(genA, got.fn("a1"))
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
		h := newAckHold(1250 * time.Millisecond)
		h.gateway(at(0))
		h.ack(genA, got.fn("a1"))
		h.ack(genB, got.fn("b1"))
		h.release()
		h.ack(genA, got.fn("a2"))
		if want := (commits{"a1", "b1", "a2"}); !slices.Equal(got, want) {
			t.Errorf("commits %v, want %v", got, want)
		}
	})
}
