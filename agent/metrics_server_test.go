package agent

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestMetricsServerBoundsConnections: a client that opens hundreds of
// connections to /metrics and leaves them idle must not make the agent
// hold one goroutine and buffer per connection (5,000 idle keep-alives took
// it from 29 to 186 MB): at most metricsMaxConns are accepted at a time.
func TestMetricsServerBoundsConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	startAgent(t, Options{StateDir: t.TempDir(), Host: "h", MetricsListen: addr, Log: testLog(t)})
	var c net.Conn
	for i := 0; i < 100; i++ { // wait for the listener
		if c, err = net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	const idle = 300
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idle {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	if grew := runtime.NumGoroutine() - before; grew > 3*metricsMaxConns {
		t.Errorf("%d idle connections made %d goroutines, want at most about %d (one per accepted connection)", idle, grew, metricsMaxConns)
	}
}
