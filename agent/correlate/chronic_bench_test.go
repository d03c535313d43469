package correlate

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// BenchmarkChronicDay feeds the daemon's pipeline (Observe of every line,
// Tick every 250 ms of log time, Emit on) a chronic incident as fast as it
// goes: 2,000 access lines a second, every 100th a 502 with its proxy error
// line, for CHRONIC_HOURS hours of log time (default 3; make
// bench-chronic runs 24). It reports the cost per line in the first and
// in the last hour: with a cost per line that does not grow with the
// incident's length they are the same. CPU time (user+system of the
// process, garbage collection included), not wall time: other work on the
// machine moves the latter.
func BenchmarkChronicDay(b *testing.B) {
	hours := 3
	if s := os.Getenv("CHRONIC_HOURS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			b.Fatalf("CHRONIC_HOURS=%q: want a number of hours ≥ 2", s)
		}
		hours = n
	}
	const rate = 2000
	b.ReportAllocs()
	var first, last time.Duration
	for i := 0; i < b.N; i++ {
		cfg := DefaultConfig()
		cfg.Emit = true
		c := New(cfg)
		access := Input{Type: parsers.TypeNginxAccess, Path: "access.log", Event: parsers.Event{Kind: parsers.KindAccess, Status: 200,
			Client: []byte("198.51.100.7"), RemoteAddr: []byte("198.51.100.7"), Request: []byte("GET /cart HTTP/1.1"), URI: []byte("/cart"),
			RequestTime: -1, UpstreamTime: -1}, Text: []byte(`198.51.100.7 - - [20/Nov/2026:10:00:00 +0000] "GET /cart HTTP/1.1" 200 512 "-" "curl/8.4.0"`)}
		proxy := Input{Type: parsers.TypeNginxError, Path: "error.log", Event: parsers.Event{Kind: parsers.KindProxy, Signal: parsers.SigResetByPeer,
			Client: []byte("198.51.100.7"), Request: []byte("GET /cart HTTP/1.1"), Upstream: []byte("fastcgi://unix:/run/php/php8.2-fpm.sock:")},
			Text: []byte(`2026/11/20 10:00:00 [error] 1234#1234: *1 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 198.51.100.7`)}
		step := time.Second / rate
		at := t0
		nextTick := at
		line := int64(0)
		updates := 0
		for h := 0; h < hours; h++ {
			start := cpuTime(b)
			for n := 0; n < rate*3600; n++ {
				at = at.Add(step)
				line++
				in := &access
				in.Event.Status = 200
				if line%100 == 0 {
					in.Event.Status = 502
					proxy.Event.Time, proxy.Line = at, line
					c.Observe(&proxy)
				}
				in.Event.Time, in.Line = at, line
				c.Observe(in)
				if !at.Before(nextTick) {
					updates += len(c.Tick(at))
					nextTick = at.Add(250 * time.Millisecond)
				}
			}
			d := cpuTime(b) - start
			if testing.Verbose() {
				b.Logf("hour %d: %.0f ns/line", h+1, float64(d.Nanoseconds())/(rate*3600))
			}
			if h == 0 {
				first = d
			}
			last = d
		}
		if updates == 0 || c.cur == nil {
			b.Fatalf("no open incident after %d hours (%d updates)", hours, updates)
		}
	}
	perLine := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / (rate * 3600) }
	b.ReportMetric(perLine(first), "ns/line-hour1")
	b.ReportMetric(perLine(last), "ns/line-hour"+strconv.Itoa(hours))
	b.ReportMetric(0, "ns/op") // one op is a simulated day: meaningless
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
