package upstream

import (
	"net/netip"
	"testing"
)

const procTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21473 1 ffff8881017d8000 100 0 0 10 0                     
   1: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 40112 1 ffff8881017d9180 100 0 0 10 0                     
   2: 0100007F:2328 0100007F:B3D6 01 00000000:00000000 00:00000000 00000000    33        0 40871 1 ffff8881017dc600 20 4 30 10 -1                    
   3: 020200C0:C37A 507100CB:01BB 06 00000000:00000000 03:000015D0 00000000     0        0 0 3 00000000bd70a10c                                      
`

const procTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21475 1 ffff888103d48000 100 0 0 10 0
   1: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 40113 1 ffff888103d4a300 100 0 0 10 0
   2: B80D0120000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40114 1 ffff888103d4a300 100 0 0 10 0
`

const procUnix = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 40101 /run/php/php8.2-fpm.sock
0000000000000000: 00000002 00000000 00010000 0005 01 12923 /run/udev/control
0000000000000000: 00000002 00000000 00010000 0001 01 12911 @/org/kernel/linux/storage/multipathd
0000000000000000: 00000003 00000000 00000000 0001 03 40877 /run/php/php8.2-fpm.sock
0000000000000000: 00000003 00000000 00000000 0001 03  1202
0000000000000000: 00000002 00000000 00000000 0002 01 13005 /run/systemd/notify
0000000000000000: 00000002 00000000 00010000 0001 01 41000 /tmp/dir with space/app.sock
0000000000000000: 00000002 00000000 00010000 0001 01 41001
`

func TestParseTCP(t *testing.T) {
	got, err := ParseTCP([]byte(procTCP))
	if err != nil {
		t.Fatal(err)
	}
	want := []TCPListener{
		{Addr: netip.MustParseAddrPort("0.0.0.0:80"), UID: 0, Inode: 21473},
		{Addr: netip.MustParseAddrPort("127.0.0.1:9000"), UID: 33, Inode: 40112},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ParseTCP = %+v; want %+v", got, want)
	}
	got6, err := ParseTCP([]byte(procTCP6))
	if err != nil {
		t.Fatal(err)
	}
	want6 := []string{"[::]:443", "[::1]:9000", "[2001:db8::1]:8080"}
	if len(got6) != len(want6) {
		t.Fatalf("ParseTCP(tcp6) = %+v", got6)
	}
	for i, w := range want6 {
		if got6[i].Addr != netip.MustParseAddrPort(w) {
			t.Errorf("tcp6 listener %d = %v; want %v", i, got6[i].Addr, w)
		}
	}
}

func TestParseTCPErrors(t *testing.T) {
	for _, in := range []string{
		"header\n   0: 00000000:0050 00000000:0000 0A\n",
		"header\n   0: 0000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
		"header\n   0: 0000000G:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
		"header\n   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     x        0 1 1\n",
		"header\n   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 -1 1\n",
	} {
		if got, err := ParseTCP([]byte(in)); err == nil {
			t.Errorf("ParseTCP(%q) = %+v; want error", in, got)
		}
	}
	if got, err := ParseTCP([]byte("only header\n\n")); err != nil || len(got) != 0 {
		t.Errorf("header only: %+v %v", got, err)
	}
}

func TestParseUnix(t *testing.T) {
	got, err := ParseUnix([]byte(procUnix))
	if err != nil {
		t.Fatal(err)
	}
	want := []UnixListener{
		{Path: "/run/php/php8.2-fpm.sock", Type: 1, Inode: 40101},
		{Path: "/run/udev/control", Type: 5, Inode: 12923},
		{Path: "@/org/kernel/linux/storage/multipathd", Type: 1, Inode: 12911},
		{Path: "/tmp/dir with space/app.sock", Type: 1, Inode: 41000},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseUnix = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("listener %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	if _, err := ParseUnix([]byte("hdr\n0000: 00000002 00000000 0001000Z 0001 01 1 /x\n")); err == nil {
		t.Error("bad flags: no error")
	}
	if _, err := ParseUnix([]byte("hdr\n0000: 00000002 00000000\n")); err == nil {
		t.Error("short line: no error")
	}
}

func TestListens(t *testing.T) {
	tcp, _ := ParseTCP([]byte(procTCP))
	tcp6, _ := ParseTCP([]byte(procTCP6))
	unix, _ := ParseUnix([]byte(procUnix))
	l := Listeners{TCP: append(tcp, tcp6...), Unix: unix}
	for _, c := range []struct {
		ap   string
		want bool
	}{
		{"127.0.0.1:9000", true},
		{"10.0.0.5:80", true},     // 0.0.0.0:80
		{"[::1]:80", false},       // only IPv4 wildcard on 80
		{"10.0.0.5:443", true},    // [::]:443 takes IPv4 too
		{"[::1]:9000", true},      // exact
		{"127.0.0.2:9000", false}, // 127.0.0.1 only
		{"[::ffff:127.0.0.1]:9000", true},
		{"127.0.0.1:9001", false},
	} {
		if got := l.ListensTCP(netip.MustParseAddrPort(c.ap)); got != c.want {
			t.Errorf("ListensTCP(%s) = %v; want %v", c.ap, got, c.want)
		}
	}
	if !l.ListensUnix("/run/php/php8.2-fpm.sock") || l.ListensUnix("/run/systemd/notify") {
		t.Error("ListensUnix")
	}
}

func BenchmarkReadListeners(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadListeners("/proc"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTCP(b *testing.B) {
	in := []byte(procTCP)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseTCP(in); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseProcNet(f *testing.F) {
	f.Add([]byte(procTCP))
	f.Add([]byte(procTCP6))
	f.Add([]byte(procUnix))
	f.Fuzz(func(t *testing.T, b []byte) {
		if tcp, err := ParseTCP(b); err == nil {
			for _, l := range tcp {
				if !l.Addr.IsValid() {
					t.Fatalf("invalid address in %+v", l)
				}
			}
		}
		if unix, err := ParseUnix(b); err == nil {
			for _, u := range unix {
				if u.Path == "" {
					t.Fatalf("empty path in %+v", u)
				}
			}
		}
	})
}
