package upstream

import (
	"net/netip"
	"testing"
)

func TestParseTCPSockets(t *testing.T) {
	got, err := ParseTCPSockets([]byte(procTCP))
	if err != nil {
		t.Fatal(err)
	}
	want := []TCPSocket{
		{Local: netip.MustParseAddrPort("0.0.0.0:80"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: TCPListen, Inode: 21473},
		{Local: netip.MustParseAddrPort("127.0.0.1:9000"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: TCPListen, UID: 33, Inode: 40112},
		{Local: netip.MustParseAddrPort("127.0.0.1:9000"), Remote: netip.MustParseAddrPort("127.0.0.1:46038"), State: TCPEstablished, UID: 33, Inode: 40871},
		{Local: netip.MustParseAddrPort("192.0.2.2:50042"), Remote: netip.MustParseAddrPort("203.0.113.80:443"), State: 0x06},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseTCPSockets = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("socket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := ParseTCPSockets([]byte("hdr\n 0: 0100007F:2328 0100007F:B3D6 ZZ 0 0 0 0 0 1\n")); err == nil {
		t.Error("a bad state parsed")
	}
}

func FuzzParseTCPSockets(f *testing.F) {
	f.Add([]byte(procTCP))
	f.Add([]byte(procTCP6))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseTCPSockets(b) // must not panic
	})
}
