package upstream

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func TestProbeUnix(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "php-fpm.sock")
	target := "unix:" + sock

	if r := Probe(context.Background(), target); r.OK || r.Reason != ReasonMissing {
		t.Fatalf("before listen: %+v; want missing", r)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // leave a stale socket file, as a killed php-fpm does
	if r := Probe(context.Background(), target); !r.OK || r.Network != "unix" || r.Address != sock {
		t.Fatalf("listening: %+v; want ok", r)
	}
	l, err := ReadListeners("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if !l.ListensUnix(sock) {
		t.Fatalf("ReadListeners does not list %s", sock)
	}
	ln.Close()
	if r := Probe(context.Background(), target); r.OK || r.Reason != ReasonRefused {
		t.Fatalf("stale socket: %+v; want refused", r)
	}
	if l, _ := ReadListeners("/proc"); l.ListensUnix(sock) {
		t.Fatalf("ReadListeners still lists the closed %s", sock)
	}
	os.Remove(sock)
	if r := Probe(context.Background(), target); r.OK || r.Reason != ReasonMissing {
		t.Fatalf("removed: %+v; want missing", r)
	}
	if err := os.WriteFile(sock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := Probe(context.Background(), target); r.OK || r.Reason != ReasonNotSocket {
		t.Fatalf("regular file: %+v; want not_a_socket", r)
	}
}

func TestProbeTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if r := Probe(context.Background(), addr); !r.OK || r.Network != "tcp" {
		t.Fatalf("listening: %+v", r)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if r := Probe(context.Background(), "localhost:"+itoa(port)); !r.OK {
		t.Fatalf("localhost: %+v", r)
	}
	l, err := ReadListeners("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if !l.ListensTCP(netip.MustParseAddrPort(addr)) {
		t.Fatalf("ReadListeners does not list %s: %+v", addr, l.TCP)
	}
	ln.Close()
	if r := Probe(context.Background(), addr); r.OK || r.Reason != ReasonRefused {
		t.Fatalf("closed: %+v; want refused", r)
	}
	if l, _ := ReadListeners("/proc"); l.ListensTCP(netip.MustParseAddrPort(addr)) {
		t.Fatalf("ReadListeners still lists the closed %s", addr)
	}
}

func TestProbeTCP6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		testenv.Require(t, testenv.Need{What: "IPv6 loopback (" + err.Error() + ")", Hint: "sysctl -w net.ipv6.conf.lo.disable_ipv6=0", Machine: true})
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, target := range []string{ln.Addr().String(), "[::1]:" + itoa(port)} {
		if r := Probe(context.Background(), target); !r.OK {
			t.Errorf("%s: %+v", target, r)
		}
	}
	l, err := ReadListeners("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if !l.ListensTCP(netip.AddrPortFrom(netip.IPv6Loopback(), uint16(port))) {
		t.Fatalf("ReadListeners does not list [::1]:%d", port)
	}
}

// A full unix listen backlog makes connect fail with EAGAIN at once: the
// php-fpm pool is exhausted.
func TestProbeUnixBusy(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "busy.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Nothing accepts: each probe's connection stays queued even after it
	// is closed, until the backlog (somaxconn) is full.
	for i := 0; i < 100000; i++ {
		r := Probe(context.Background(), "unix:"+sock)
		if r.Reason == ReasonBusy {
			t.Logf("busy after %d connections", i)
			return
		}
		if !r.OK {
			t.Fatalf("probe %d: %+v", i, r)
		}
	}
	t.Fatal("backlog never filled")
}

func TestProbeTimeoutAndBadTarget(t *testing.T) {
	if r := Probe(context.Background(), "localhost"); r.OK || r.Reason != ReasonBadTarget {
		t.Fatalf("bad target: %+v", r)
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if r := Probe(ctx, "127.0.0.1:9"); r.OK || r.Reason != ReasonTimeout {
		t.Fatalf("expired deadline: %+v; want timeout", r)
	}
}

func itoa(n int) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[len("0.0.0.0:"):]
}
