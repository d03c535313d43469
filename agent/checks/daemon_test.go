package checks

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

func TestCloudflareTrafficStopped(t *testing.T) {
	cf := NewCloudflareTraffic([]netip.Prefix{netip.MustParsePrefix("173.245.48.0/20")})
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for m := 0; m < 15; m++ {
		for i := 0; i < 20; i++ {
			cf.Observe([]byte("173.245.48.7"), base.Add(time.Duration(m)*time.Minute))
			cf.Observe([]byte("198.51.100.1"), base.Add(time.Duration(m)*time.Minute))
		}
	}
	if r := cf.Result(base.Add(15 * time.Minute)); r.Status != Pass {
		t.Fatalf("busy with Cloudflare traffic: %+v", r)
	}
	// Cloudflare stops; other sources go on.
	for m := 15; m < 19; m++ {
		cf.Observe([]byte("198.51.100.1"), base.Add(time.Duration(m)*time.Minute))
	}
	r := cf.Result(base.Add(19 * time.Minute))
	if r.Status != Fail || r.Cause != correlate.CauseCloudflareStopped || r.Reported() != ReportBad {
		t.Fatalf("want cloudflare_traffic_stopped, got %+v", r)
	}
	// A site that was never busy with Cloudflare traffic does not alarm.
	quiet := NewCloudflareTraffic([]netip.Prefix{netip.MustParsePrefix("173.245.48.0/20")})
	quiet.Observe([]byte("173.245.48.7"), base)
	if r := quiet.Result(base.Add(20 * time.Minute)); r.Status != Pass {
		t.Fatalf("quiet site alarmed: %+v", r)
	}
}

func TestListenerResult(t *testing.T) {
	mk := func(s string) upstream.TCPListener { return upstream.TCPListener{Addr: netip.MustParseAddrPort(s)} }
	ls := []upstream.TCPListener{mk("0.0.0.0:80"), mk("127.0.0.1:443"), mk("[::1]:8443")}
	if r := ListenerCheck(80, ls, nil, ListenerContext{}); r.Status != Pass {
		t.Errorf("80 on 0.0.0.0: %+v", r)
	}
	if r := ListenerCheck(443, ls, nil, ListenerContext{}); r.Status != Fail || !strings.Contains(r.Summary, "only on 127.0.0.1:443") {
		t.Errorf("443 on loopback only: %+v", r)
	}
	if r := ListenerCheck(8080, ls, nil, ListenerContext{}); r.Status != Fail || !strings.Contains(r.Summary, "nothing listens") {
		t.Errorf("8080 absent: %+v", r)
	}
}

// The daemon runs these every [checks] interval: reading the listener
// tables and judging a port and a socket.
func BenchmarkListenersRun(b *testing.B) {
	l := &Listeners{Ports: []uint16{80, 443}}
	b.ReportAllocs()
	for b.Loop() {
		l.Run(context.Background())
	}
}

func BenchmarkUpstreamsRun(b *testing.B) {
	u := &Upstreams{Targets: []string{"unix:/run/php/php8.2-fpm.sock"}}
	b.ReportAllocs()
	for b.Loop() {
		u.Run(context.Background())
	}
}
