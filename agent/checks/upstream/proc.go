package upstream

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
)

// TCPListener is a TCP socket in LISTEN state (st 0A).
type TCPListener struct {
	Addr  netip.AddrPort `json:"addr"`
	UID   uint32         `json:"uid"`
	Inode uint64         `json:"inode"`
}

// UnixListener is a listening unix socket that has a name.
type UnixListener struct {
	Path  string `json:"path"` // abstract names start with '@'
	Type  int    `json:"type"` // 1 SOCK_STREAM, 5 SOCK_SEQPACKET
	Inode uint64 `json:"inode"`
}

// Listeners is the host's (network namespace's) listening sockets.
type Listeners struct {
	TCP  []TCPListener  `json:"tcp"`
	Unix []UnixListener `json:"unix"`
}

// ReadListeners reads procRoot/net/tcp, tcp6 and unix (procRoot is
// normally "/proc"). A missing tcp6 (IPv6 disabled) is not an error.
func ReadListeners(procRoot string) (Listeners, error) {
	tcp, err := ReadTCP(procRoot)
	if err != nil {
		return Listeners{}, err
	}
	l := Listeners{TCP: tcp}
	p := filepath.Join(procRoot, "net", "unix")
	b, err := os.ReadFile(p)
	if err != nil {
		return Listeners{}, fmt.Errorf("read %s: %w", p, err)
	}
	if l.Unix, err = ParseUnix(b); err != nil {
		return Listeners{}, fmt.Errorf("%s: %w", p, err)
	}
	return l, nil
}

// ReadTCP reads the TCP listeners of procRoot/net/tcp and tcp6 only.
func ReadTCP(procRoot string) ([]TCPListener, error) {
	var out []TCPListener
	for _, name := range []string{"tcp", "tcp6"} {
		p := filepath.Join(procRoot, "net", name)
		b, err := os.ReadFile(p)
		if err != nil {
			if name == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		tcp, err := ParseTCP(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, tcp...)
	}
	return out, nil
}

// ListensTCP reports whether something accepts TCP connections to ap: a
// listener on that address, or on the wildcard of its family (:: also
// takes IPv4 unless the socket is IPV6_V6ONLY, which /proc does not show).
func (l Listeners) ListensTCP(ap netip.AddrPort) bool {
	want := ap.Addr().Unmap()
	for _, t := range l.TCP {
		if t.Addr.Port() != ap.Port() {
			continue
		}
		a := t.Addr.Addr()
		if a == want || a.IsUnspecified() && (a.Is6() || want.Is4()) {
			return true
		}
	}
	return false
}

// ListensUnix reports whether a unix socket listens at path.
func (l Listeners) ListensUnix(path string) bool {
	for _, u := range l.Unix {
		if u.Path == path {
			return true
		}
	}
	return false
}

// ParseTCP parses /proc/net/tcp or /proc/net/tcp6 and returns the sockets
// in LISTEN state: ParseTCPSockets, the one parser of that table, filtered.
func ParseTCP(b []byte) ([]TCPListener, error) {
	socks, err := ParseTCPSockets(b)
	if err != nil {
		return nil, err
	}
	var out []TCPListener
	for _, so := range socks {
		if so.State == TCPListen {
			out = append(out, TCPListener{Addr: so.Local, UID: so.UID, Inode: so.Inode})
		}
	}
	return out, nil
}

// parseHexAddrPort decodes "0100007F:1F90" (IPv4) or 32 hex digits for
// IPv6, each 32-bit word printed as a host-order integer.
func parseHexAddrPort(b []byte) (netip.AddrPort, error) {
	h, p, ok := bytes.Cut(b, []byte(":"))
	if !ok || len(p) != 4 || (len(h) != 8 && len(h) != 32) {
		return netip.AddrPort{}, errors.New("not addr:port in hex")
	}
	var raw [16]byte
	n, err := hex.Decode(raw[:], h)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var ip [16]byte
	for i := 0; i < n; i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(string(p), 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var a netip.Addr
	if n == 4 {
		a = netip.AddrFrom4([4]byte(ip[:4]))
	} else {
		a = netip.AddrFrom16(ip)
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

const soAcceptCon = 0x10000 // __SO_ACCEPTCON in the Flags column: listen() was called

// ParseUnix parses /proc/net/unix and returns the listening sockets that
// have a path (or abstract name). A path may contain spaces.
func ParseUnix(b []byte) ([]UnixListener, error) {
	var out []UnixListener
	first := true
	for line := range bytes.Lines(b) {
		if first { // "Num       RefCount Protocol Flags    Type St Inode Path"
			first = false
			continue
		}
		line = bytes.TrimRight(line, "\n")
		rest := line
		var f [7][]byte
		i := 0
		for ; i < 7; i++ {
			rest = bytes.TrimLeft(rest, " ")
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			f[i], rest = rest[:end], rest[end:]
			if len(f[i]) == 0 {
				break
			}
		}
		if i == 0 {
			continue
		}
		if i < 7 {
			return nil, fmt.Errorf("short line %q", line)
		}
		path := bytes.TrimPrefix(rest, []byte(" "))
		flags, err1 := strconv.ParseUint(string(f[3]), 16, 32)
		typ, err2 := strconv.ParseUint(string(f[4]), 16, 16)
		inode, err3 := strconv.ParseUint(string(f[6]), 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		if flags&soAcceptCon == 0 || string(f[5]) != "01" || len(path) == 0 {
			continue
		}
		out = append(out, UnixListener{Path: string(path), Type: int(typ), Inode: inode})
	}
	return out, nil
}
