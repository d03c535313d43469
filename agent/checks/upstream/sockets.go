package upstream

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
)

// TCP socket states as /proc/net/tcp prints them (include/net/tcp_states.h).
const (
	TCPEstablished = 0x01
	TCPListen      = 0x0A
)

// TCPSocket is one line of /proc/net/tcp or tcp6, whatever its state.
type TCPSocket struct {
	Local, Remote netip.AddrPort
	State         uint8
	UID           uint32
	Inode         uint64
}

// ParseTCPSockets parses /proc/net/tcp or /proc/net/tcp6 and returns every
// socket with its state and both addresses. audit --apply --restrict uses
// it to find sshd's listeners and the established connections it must not
// cut.
func ParseTCPSockets(b []byte) ([]TCPSocket, error) {
	var out []TCPSocket
	first := true
	for line := range bytes.Lines(b) {
		if first {
			first = false
			continue
		}
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("short line %q", bytes.TrimSpace(line))
		}
		local, err := parseHexAddrPort(f[1])
		if err != nil {
			return nil, fmt.Errorf("local address %q: %w", f[1], err)
		}
		remote, err := parseHexAddrPort(f[2])
		if err != nil {
			return nil, fmt.Errorf("remote address %q: %w", f[2], err)
		}
		st, err := strconv.ParseUint(string(f[3]), 16, 8)
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", f[3], err)
		}
		uid, err := strconv.ParseUint(string(f[7]), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("uid %q: %w", f[7], err)
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("inode %q: %w", f[9], err)
		}
		out = append(out, TCPSocket{Local: local, Remote: remote, State: uint8(st), UID: uint32(uid), Inode: inode})
	}
	return out, nil
}
