package correlate

import (
	"math"
	"time"
)

// secondCounter counts access lines per second, for an incident's request
// count: sum(start, last) is how many requests were logged in the seconds
// it spans. A chronic incident lasts hours, so nothing here may walk the
// seconds since it began: every operation costs O(1) in the incident's
// length (at most O(window) for a sum, usually a few steps).
//
// The seconds of the last window (longer than the quiet gap plus settling
// plus a minute: all a new incident can reach back to) live in a ring of
// per-second buckets with a running total. A second that leaves the ring
// while an open incident still needs it (it is not older than the prune
// floor) is folded into one running total, archive, when it lies within
// the open incident's span and at least half a ring before its last
// gateway status so far: that stretch belongs to the incident whatever
// comes (statuses still settling, a change of cause that splits it off
// from the statuses since its last one). The ring is twice the window, so
// while log time moves on steadily every second that leaves it qualifies.
// Any other second that leaves the ring, which happens only when log time
// jumps by more than the ring (a night's silence, a rotated file's gap),
// is kept by itself in spill, so that the statuses still settling before
// the jump count it exactly; the next prune drops it. spill is bounded by
// the ring's length.
//
// It answers what the per-second map it replaces answered, with one
// approximation that needs input disordered by minutes: a prune floor, or
// a sum from a second, that falls inside the archived stretch (not before
// it) drops the archive instead of splitting it.
type secondCounter struct {
	ring    []secBucket // len is a power of two; slot sec&mask holds sec
	mask    int64
	started bool  // hi is set
	hi      int64 // latest second counted in the ring
	total   int   // sum of the ring's buckets
	floor   int64 // seconds before it are forgotten

	archive        int   // lines in archived seconds
	archLo, archHi int64 // the archived stretch, when archive > 0
	spill          []secBucket
}

type secBucket struct {
	sec int64
	n   int
}

// newSecondCounter returns a counter whose ring spans at least twice window.
func newSecondCounter(window time.Duration) secondCounter {
	n := int64(256)
	for time.Duration(n)*time.Second < 2*window && n < 1<<24 {
		n *= 2
	}
	return secondCounter{ring: make([]secBucket, n), mask: n - 1, floor: math.MinInt64}
}

// add counts one line logged at t. from and seal are the first and last
// gateway status of the open incident, if any (zero otherwise).
func (s *secondCounter) add(t, from, seal time.Time) {
	sec := t.Unix()
	if sec < s.floor {
		return // already forgotten: no sum can reach it
	}
	if !s.started {
		s.started, s.hi = true, sec
	}
	if sec > s.hi || sec <= s.hi-int64(len(s.ring)) {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		if !seal.IsZero() {
			lo, hi = from.Unix(), seal.Unix()-int64(len(s.ring))/2
		}
		if sec > s.hi {
			s.advance(sec, lo, hi)
		} else {
			s.stash(sec, 1, lo, hi)
			return
		}
	}
	b := &s.ring[sec&s.mask]
	if b.sec != sec {
		*b = secBucket{sec: sec}
	}
	b.n++
	s.total++
}

// advance moves the ring's end to sec, moving the seconds that leave it to
// the archive or the spill.
func (s *secondCounter) advance(sec, lo, hi int64) {
	n := int64(len(s.ring))
	from := s.hi - n + 1
	to := min(sec-n, s.hi)
	for k := from; k <= to; k++ {
		b := &s.ring[k&s.mask]
		if b.sec == k && b.n > 0 {
			s.total -= b.n
			s.stash(k, b.n, lo, hi)
			b.n = 0
		}
	}
	s.hi = sec
}

// stash keeps n lines of a second older than the ring: in the archive when
// the open incident spans lo..hi covers it, else by itself.
func (s *secondCounter) stash(sec int64, n int, lo, hi int64) {
	if sec < s.floor {
		return
	}
	if sec >= lo && sec <= hi {
		if s.archive == 0 {
			s.archLo, s.archHi = sec, sec
		}
		s.archive += n
		s.archLo, s.archHi = min(s.archLo, sec), max(s.archHi, sec)
		return
	}
	for i := range s.spill {
		if s.spill[i].sec == sec {
			s.spill[i].n += n
			return
		}
	}
	s.spill = append(s.spill, secBucket{sec: sec, n: n})
}

// sum returns the lines counted in the seconds from..to, both included.
func (s *secondCounter) sum(from, to time.Time) int {
	f, t := max(from.Unix(), s.floor), to.Unix()
	if t < f || !s.started {
		return 0
	}
	n := 0
	if s.archive > 0 && f <= s.archLo && t >= s.archHi {
		n += s.archive
	}
	for _, b := range s.spill {
		if b.sec >= f && b.sec <= t {
			n += b.n
		}
	}
	lo, hi := s.hi-int64(len(s.ring))+1, s.hi
	a, z := max(f, lo), min(t, hi)
	if a > z {
		return n
	}
	// Walk the shorter way: the seconds asked for, or the ring's total
	// less the seconds around them (for a long incident, the few seconds
	// since its last gateway status).
	if z-a+1 <= (a-lo)+(hi-z) {
		return n + s.walk(a, z)
	}
	return n + s.total - s.walk(lo, a-1) - s.walk(z+1, hi)
}

func (s *secondCounter) walk(a, z int64) int {
	n := 0
	for k := a; k <= z; k++ {
		if b := &s.ring[k&s.mask]; b.sec == k {
			n += b.n
		}
	}
	return n
}

// prune forgets the seconds before before.
func (s *secondCounter) prune(before time.Time) {
	nf := before.Unix()
	if nf <= s.floor {
		s.floor = nf
		return
	}
	if s.started {
		lo := max(s.floor, s.hi-int64(len(s.ring))+1)
		hi := min(nf-1, s.hi)
		for k := lo; k <= hi; k++ {
			if b := &s.ring[k&s.mask]; b.sec == k && b.n > 0 {
				s.total -= b.n
				b.n = 0
			}
		}
	}
	if s.archive > 0 && nf > s.archLo {
		s.archive = 0
	}
	k := 0
	for _, b := range s.spill {
		if b.sec >= nf {
			s.spill[k] = b
			k++
		}
	}
	s.spill = s.spill[:k]
	s.floor = nf
}
