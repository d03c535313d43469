package sink

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/sink/spool"

	"github.com/origin-agent/origin-agent/internal/receivers"
)

// BenchmarkDeliveryLatencyRsyslog measures the time from spool Append to the
// sink's confirmation (the whole batch written to a healthy local rsyslog
// over TCP) with the default batch_wait (200 ms), findings arriving every
// 5 ms; it reports p50 and p99 and checks rsyslog wrote them all.
func BenchmarkDeliveryLatencyRsyslog(b *testing.B) {
	receivers.RequireRsyslog(b, false)
	dir := b.TempDir()
	port := freePort(b)
	rs := receivers.StartRsyslog(b, dir, "", fmt.Sprintf(`module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="r")`, port))
	cfg := def(Config{Type: TypeSyslog, Name: "bench", Address: fmt.Sprintf("tcp://127.0.0.1:%d", port)})
	s, err := New(cfg, Deps{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sp, err := spool.Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	var mu sync.Mutex
	var lat []time.Duration
	o := DeliverOptionsFrom(cfg, Deps{})
	o.OnDelivered = func(es []spool.Entry) {
		now := time.Now()
		mu.Lock()
		for _, e := range es {
			lat = append(lat, now.Sub(e.Appended))
		}
		mu.Unlock()
	}
	d := NewDeliverer("bench", sp, s, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	f := testFinding("x")
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		f.ID = fmt.Sprintf("lat-%d", n)
		n++
		if err := sp.Append(f); err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 0; i < 500 && sp.Len() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := len(rs.WaitLines(n, 10*time.Second)); got < n {
		b.Fatalf("rsyslog wrote %d of %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
