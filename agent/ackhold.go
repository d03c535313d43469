package agent

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

// maxHold bounds how long positions may stay behind an incident: past it,
// a crash re-reads at most this much of a long outage (the incident's
// counts then start later), rather than everything since it began.
const maxHold = 5 * time.Minute

// ackHold keeps the file positions from moving past the lines of an
// incident that is not closed yet.
//
// The correlator keeps an open incident in memory only. Were the lines of a
// burst committed as soon as they were observed, a crash (SIGKILL, OOM,
// power) before the incident closed would lose it: the restarted agent
// resumes after those lines and never sees the burst. So from the first
// gateway status on, acknowledgements are held, and released in delivery
// order once no incident is open and the last gateway status has settled.
// After a crash the restarted agent re-reads the burst from its start and
// emits the same incident (same id) again: at-least-once, de-duplicated by
// id downstream.
//
// Re-reading the burst alone would not name the same cause: the signals
// that explain it (the OOM kill, the pool's max_children warning) were
// logged up to the correlator's Lookback before its first gateway status,
// and their lines were committed long ago. So the lines of signal logs
// (error, php-fpm and kernel logs: trail true) are committed only once they
// are older than the lookback, and a hold also freezes that trail: the
// restarted agent re-reads them with the burst. Access logs, the bulk of
// the lines, carry no signals and commit at once. A crash while nothing is
// held re-reads at most the lookback of signal-log lines, which open no
// incident on their own.
//
// While it holds, the positions file is not written either (see
// syncPositions). It is owned by the agent's loop goroutine (not safe for
// concurrent use) except for active, which the sync goroutine reads.
// Memory stays O(files): per file generation only its latest
// acknowledgement is kept (Commit is cumulative), one entry per switch
// between generations (a rotated file drained while the new one is read).
type ackHold struct {
	settle time.Duration // the correlator's Settle plus a tick
	lag    time.Duration // how long signal-log commits trail; 0: none

	at    time.Time     // wall time of the latest tick: stamps the trail
	trail []trailBucket // signal-log commits younger than lag, oldest first

	since   time.Time // when holding began; zero when not holding
	lastGW  time.Time // wall time of the latest gateway status observed
	open    map[string]bool
	pending []heldAck
	active  atomic.Bool   // since is set: read by syncPositions
	freed   chan struct{} // a release happened: syncPositions writes now
}

type heldAck struct {
	gen    positions.Key
	commit func()
}

// trailBucket holds the signal-log commits of one second, per generation
// the latest, in the order the generations first appeared. Commit order
// matters only within one inode (a fingerprint grows, never goes back), and
// there the order of first appearance is the order of delivery.
type trailBucket struct {
	at   time.Time
	acks []heldAck
}

// trailBucketSpan is the stamp resolution of the trail: it bounds the
// trail's length to lag/trailBucketSpan buckets of one entry per file.
const trailBucketSpan = time.Second

func newAckHold(settle, lag time.Duration) *ackHold {
	return &ackHold{settle: settle, lag: lag, open: map[string]bool{}, freed: make(chan struct{}, 1)}
}

// gateway records that a gateway status was observed at wall time now.
func (h *ackHold) gateway(now time.Time) {
	if h.since.IsZero() {
		h.since = now
		h.active.Store(true)
	}
	h.lastGW = now
}

// ack commits now, or holds the commit while an incident may be open.
// gen is the file generation the line belongs to; trail is true for the
// lines of signal logs, which wait out the lag first.
func (h *ackHold) ack(gen positions.Key, commit func(), trail bool) {
	if h.since.IsZero() {
		if trail && h.lag > 0 {
			h.toTrail(gen, commit)
			return
		}
		commit()
		return
	}
	if n := len(h.pending); n > 0 && h.pending[n-1].gen == gen {
		h.pending[n-1].commit = commit
		return
	}
	h.pending = append(h.pending, heldAck{gen: gen, commit: commit})
}

func (h *ackHold) toTrail(gen positions.Key, commit func()) {
	n := len(h.trail)
	if n == 0 || h.at.Sub(h.trail[n-1].at) >= trailBucketSpan {
		h.trail = append(h.trail, trailBucket{at: h.at})
		n++
	}
	b := &h.trail[n-1]
	for i := range b.acks {
		if b.acks[i].gen == gen {
			b.acks[i].commit = commit
			return
		}
	}
	b.acks = append(b.acks, heldAck{gen: gen, commit: commit})
}

// commitTrail commits the trail's buckets stamped before cutoff.
func (h *ackHold) commitTrail(cutoff time.Time) {
	i := 0
	for i < len(h.trail) && h.trail[i].at.Before(cutoff) {
		i++
	}
	h.commitBuckets(i)
}

// commitBuckets commits the trail's first n buckets, oldest first, and
// drops them.
func (h *ackHold) commitBuckets(n int) {
	for _, b := range h.trail[:n] {
		for _, a := range b.acks {
			a.commit()
		}
	}
	if n > 0 {
		k := copy(h.trail, h.trail[n:])
		clear(h.trail[k:])
		h.trail = h.trail[:k]
	}
}

// incident tracks which incidents are open, from the correlator's updates.
func (h *ackHold) incident(id string, closed bool) {
	if closed {
		delete(h.open, id)
	} else {
		h.open[id] = true
	}
}

// tick releases the held commits when nothing can be open any more at
// wall time now (or when held longer than maxHold). idle is the
// correlator's word that it holds no open incident and no gateway status
// still settling: everything observed so far is accounted for.
func (h *ackHold) tick(now time.Time, idle bool) {
	h.at = now
	if h.since.IsZero() {
		h.commitTrail(now.Add(-h.lag))
		return
	}
	// Holding: the trail before the burst's lookback may go, the rest is
	// what a re-read burst needs.
	h.commitTrail(h.since.Add(-h.lag))
	quiet := idle || len(h.open) == 0 && now.Sub(h.lastGW) > h.settle
	if quiet || now.Sub(h.since) > maxHold {
		h.release()
		if !quiet {
			h.since = now // keep holding what comes next
			h.active.Store(true)
		}
	}
}

// release commits everything held, the trail first, in delivery order.
func (h *ackHold) release() {
	h.commitBuckets(len(h.trail))
	for _, p := range h.pending {
		p.commit()
	}
	clear(h.pending)
	h.pending = h.pending[:0]
	h.since = time.Time{}
	h.active.Store(false)
	select {
	case h.freed <- struct{}{}:
	default:
	}
}

// syncPositions writes the positions file every SyncInterval, right after a
// hold was released, and once more when ctx ends, but not while h holds:
// the one place positions are synced.
//
// A restarted agent reads a rotated generation it has no position for from
// its start only when the generation changed after the positions file was
// written. Were the file rewritten during a hold (the same held offsets,
// at a later time), a generation created and rotated away during the hold
// would look handled and be skipped. Skipping those writes loses nothing:
// the offsets in memory are the held ones, and the last file written holds
// them too. Only a first start, with no file yet, writes as soon as the
// sources placed their start positions, whatever the hold: without a file
// a restart would begin at the end of each log.
func (a *Agent) syncPositions(ctx context.Context, h *ackHold) {
	written := !a.store.Loaded().IsZero()
	every := a.opt.SyncInterval
	if !written {
		every = min(every, 50*time.Millisecond)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// freed: everything read up to the release is committed, even when a
	// long outage (maxHold) is held again at once.
	sync := func(final, freed bool) {
		if h.active.Load() && written && !freed {
			if final {
				a.log.Info("positions not flushed: an incident is open; a restart re-reads it")
			}
			return
		}
		if !written && a.store.Len() == 0 && !final {
			return // no start position placed yet
		}
		if err := a.store.Sync(); err != nil {
			a.log.Error("positions sync", "err", err)
			return
		}
		if !written {
			written = true
			t.Reset(a.opt.SyncInterval)
		}
	}
	for {
		select {
		case <-ctx.Done():
			sync(true, false)
			return
		case <-t.C:
			sync(false, false)
		case <-h.freed:
			sync(false, true)
		}
	}
}
