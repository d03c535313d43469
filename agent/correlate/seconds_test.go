package correlate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// TestRequestCountsExact: an incident's request count is the number of
// access lines logged in the seconds it spans, whatever its length, with
// lines a few seconds out of order, log time jumping by hours (nights,
// rotated files), splits on a change of cause, live ticks and a gap longer
// than the default. The expected counts are counted by brute force over
// the input read when the incident closed (one split off by a change of
// cause closes at once, before its last seconds' late lines).
func TestRequestCountsExact(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		cfg := DefaultConfig()
		if seed%4 == 0 {
			cfg.Gap = time.Duration(5+r.IntN(600)) * time.Second
		}
		if seed%3 == 0 {
			cfg.Emit = true
		}
		in := chronicInput(r, 12000)
		c := New(cfg)
		type closed struct {
			inc  Incident
			seen int // inputs observed when it closed
		}
		var got []closed
		live := seed%2 == 0
		for i := range in {
			c.Observe(&in[i])
			at := in[i].Event.Time
			if live && r.IntN(50) == 0 {
				at = at.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
			}
			for _, u := range c.Tick(at) {
				if u.State == Closed {
					got = append(got, closed{u.Incident, i + 1})
				}
			}
		}
		for _, u := range c.Flush() {
			if u.State == Closed {
				got = append(got, closed{u.Incident, len(in)})
			}
		}
		if len(got) == 0 {
			t.Fatalf("seed %d: no incident", seed)
		}
		for _, cl := range got {
			inc := cl.inc
			want := 0
			for i := range in[:cl.seen] {
				ev := &in[i].Event
				if ev.Kind == parsers.KindAccess {
					if s := ev.Time.Unix(); s >= inc.Start.Unix() && s <= inc.End.Unix() {
						want++
					}
				}
			}
			want = max(want, inc.Gateways)
			if inc.Requests != want {
				t.Fatalf("seed %d (gap %v): incident %v → %v (%d statuses): %d requests, want %d",
					seed, cfg.Gap, inc.Start, inc.End, inc.Gateways, inc.Requests, want)
			}
		}
	}
}

// chronicInput is an access log with proxy error lines: healthy stretches,
// faulty ones (bursts, or a trickle lasting hours) whose cause may change
// midway, lines up to 3 s out of order, and jumps of log time.
func chronicInput(r *rand.Rand, n int) []Input {
	var in []Input
	now := t0
	sigs := []parsers.Signal{parsers.SigConnectRefused, parsers.SigUpstreamTimedOut, parsers.SigResetByPeer}
	faulty, rate, sig := false, 0, sigs[0]
	var gwLast time.Time
	for len(in) < n {
		switch x := r.IntN(1000); {
		case x < 3:
			now = now.Add(time.Duration(10+r.IntN(6*60)) * time.Minute) // a night's silence
		case x < 15:
			faulty = !faulty
			rate = []int{2, 10, 50, 100}[r.IntN(4)]
		case x < 20:
			sig = sigs[r.IntN(len(sigs))]
		}
		step := time.Duration(r.IntN(400)) * time.Millisecond
		if !faulty && r.IntN(200) == 0 {
			step = time.Duration(r.IntN(200)) * time.Second // quiet: may end an incident
		}
		now = now.Add(step)
		at := now.Add(-time.Duration(r.IntN(3000)) * time.Millisecond)
		status := 200
		client := []byte{'c', byte('a' + r.IntN(26)), byte('a' + r.IntN(26))}
		if faulty && r.IntN(100) < rate {
			// Statuses in order among themselves: one logged before an
			// incident's first, arriving late, moves its start back over
			// seconds already forgotten, which no counter can count.
			if at.Before(gwLast) {
				at = gwLast
			}
			gwLast = at
			status = 502
			if sig == parsers.SigUpstreamTimedOut {
				status = 504
			}
			in = append(in, Input{Type: parsers.TypeNginxError, Path: "error.log", Line: int64(len(in) + 1),
				Event: parsers.Event{Time: at, Kind: parsers.KindProxy, Signal: sig, Client: client, Request: []byte("GET / HTTP/1.1")}})
		}
		in = append(in, Input{Type: parsers.TypeNginxAccess, Path: "access.log", Line: int64(len(in) + 1),
			Event: parsers.Event{Time: at, Kind: parsers.KindAccess, Status: status, Client: client, RemoteAddr: client,
				Request: []byte("GET / HTTP/1.1"), RequestTime: -1, UpstreamTime: -1}})
	}
	return in
}

// TestSecondCounterBounded: a day of lines keeps the counter's memory at
// its ring, and sums over the whole day stay exact.
func TestSecondCounterBounded(t *testing.T) {
	s := newSecondCounter(3 * time.Minute)
	start := t0
	n := 0
	for sec := 0; sec < 86400; sec++ {
		at := start.Add(time.Duration(sec) * time.Second)
		for i := 0; i < 1+sec%3; i++ {
			s.add(at, start, at)
			n++
		}
		s.prune(start) // an incident open since start
	}
	if got := s.sum(start, start.Add(86399*time.Second)); got != n {
		t.Fatalf("sum %d, want %d", got, n)
	}
	if len(s.spill) != 0 || len(s.ring) != 512 {
		t.Fatalf("spill %d, ring %d", len(s.spill), len(s.ring))
	}
	want := 0
	for sec := 86390; sec < 86400; sec++ {
		want += 1 + sec%3
	}
	if got := s.sum(start.Add(86390*time.Second), start.Add(86399*time.Second)); got != want {
		t.Fatalf("last 10 s: %d, want %d", got, want)
	}
}
