package correlate

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// TestClockStepBack: a clock running an hour ahead is stepped back between
// two bursts. The bursts are two incidents, each with its own span, not one
// from the second's start to the first's end.
func TestClockStepBack(t *testing.T) {
	var s scenario
	burst := func(at time.Duration) {
		s.healthy(at-30*time.Second, at, time.Second)
		for i := 0; i < 5; i++ {
			d := at + time.Duration(i)*time.Second
			s.proxy(d, parsers.SigConnectRefused, "203.0.113.9", "GET / HTTP/1.1", "connect() failed (111: Connection refused)")
			s.access(d, 502, "203.0.113.9", "GET / HTTP/1.1")
			s.access(d+500*time.Millisecond, 200, "198.51.100.1", "GET / HTTP/1.1")
		}
		s.healthy(at+5*time.Second, at+20*time.Second, time.Second)
	}
	burst(time.Hour + time.Minute) // 11:01, the clock an hour ahead
	burst(time.Minute)             // 10:01, after the step back
	got := run(t, DefaultConfig(), s.in)
	if len(got) != 2 {
		for _, inc := range got {
			t.Logf("%v → %v: %d", inc.Start, inc.End, inc.Gateways)
		}
		t.Fatalf("%d incidents, want 2", len(got))
	}
	for i, at := range []time.Duration{time.Hour + time.Minute, time.Minute} {
		inc := got[i]
		if !inc.Start.Equal(t0.Add(at)) || !inc.End.Equal(t0.Add(at+4*time.Second)) || inc.Gateways != 5 || inc.Cause != CauseUpstreamDown {
			t.Errorf("incident %d: %v → %v, %d statuses, %s; want %v → +4s, 5, upstream_down", i+1, inc.Start, inc.End, inc.Gateways, inc.Cause, t0.Add(at))
		}
		if inc.Requests != 10 {
			t.Errorf("incident %d: %d requests, want 10", i+1, inc.Requests)
		}
	}
}

// TestSmallDisorderIsNoClockStep: lines of one log minutes out of order
// (apache stamps requests when they began), and logs of a host read late
// against each other, do not end an incident.
func TestSmallDisorderIsNoClockStep(t *testing.T) {
	var s scenario
	for i := 0; i < 60; i++ {
		d := time.Duration(i) * time.Second
		s.access(d, 502, "203.0.113.9", "GET / HTTP/1.1")
		if i == 30 {
			s.access(d-25*time.Minute, 200, "203.0.113.8", "GET /big.iso HTTP/1.1") // a 25-minute download
		}
	}
	// An error log read late: its lines come after the access log's.
	for i := 0; i < 60; i++ {
		s.proxy(time.Duration(i)*time.Second-20*time.Minute, parsers.SigConnectRefused, "203.0.113.9", "GET / HTTP/1.1", "connect() failed (111: Connection refused)")
	}
	if got := run(t, DefaultConfig(), s.in); len(got) != 1 || got[0].Gateways != 60 {
		t.Fatalf("want one incident of 60 statuses, got %d: %+v", len(got), got)
	}
}
