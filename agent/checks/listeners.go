package checks

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Socket is one listening TCP socket from /proc/net/tcp or /proc/net/tcp6.
type Socket struct {
	Addr  netip.Addr
	Port  uint16
	Inode uint64
}

// Proc names the process that owns a socket.
type Proc struct {
	PID  int32  `json:"pid"`
	Name string `json:"name"`
}

// ParseProcNetTCP returns the listening sockets (state 0A) of a
// /proc/net/tcp or /proc/net/tcp6 table. Addresses are in the kernel's
// per-32-bit-word host byte order (little endian on every platform Go's
// linux ports run this on but s390x/ppc64/mips big-endian, which are
// not supported here).
func ParseProcNetTCP(data []byte) ([]Socket, error) {
	var out []Socket
	for n, line := range bytes.Split(data, []byte("\n")) {
		f := strings.Fields(string(line))
		if n == 0 || len(f) == 0 {
			continue // header "sl local_address rem_address st ..."
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("proc net tcp line %d: %d fields, want at least 10", n+1, len(f))
		}
		if f[3] != "0A" {
			continue
		}
		host, port, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("proc net tcp line %d: local address %q", n+1, f[1])
		}
		addr, err := procAddr(host)
		if err != nil {
			return nil, fmt.Errorf("proc net tcp line %d: %w", n+1, err)
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("proc net tcp line %d: port %q: %w", n+1, port, err)
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("proc net tcp line %d: inode %q: %w", n+1, f[9], err)
		}
		out = append(out, Socket{Addr: addr, Port: uint16(p), Inode: inode})
	}
	return out, nil
}

// procAddr decodes "0100007F" or a 32-hex-digit IPv6 address, each 32-bit
// word little endian.
func procAddr(s string) (netip.Addr, error) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, _ := netip.AddrFromSlice(b)
	return a.Unmap(), nil
}

// ListenerCheck says whether Cloudflare can connect to port: pass when a
// socket listens on a wildcard or a non-loopback address, fail (521) when
// nothing listens or only loopback does. owners may be nil or partial (not
// root): the process is then omitted.
func ListenerCheck(port uint16, socks []Socket, owners map[uint64]Proc) Check {
	c := newCheck(fmt.Sprintf("listener.%d", port))
	var addrs []string
	var procs []Proc
	public := false
	for _, s := range socks {
		if s.Port != port {
			continue
		}
		addrs = append(addrs, netip.AddrPortFrom(s.Addr, port).String())
		if !s.Addr.IsLoopback() {
			public = true
		}
		if p, ok := owners[s.Inode]; ok && !slices.Contains(procs, p) {
			procs = append(procs, p)
		}
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	c.Details["addresses"] = addrs
	if len(procs) > 0 {
		c.Details["processes"] = procs
	}
	who := ""
	if len(procs) > 0 {
		who = fmt.Sprintf("%s (pid %d) ", procs[0].Name, procs[0].PID)
	}
	switch {
	case len(addrs) == 0:
		c.Status = Fail
		c.Summary = fmt.Sprintf("nothing listens on port %d: Cloudflare answers 521 (connection refused)", port)
		c.Fix = []string{"systemctl status nginx apache2", "systemctl start nginx   # or apache2, whichever serves the site"}
	case !public:
		c.Status = Fail
		c.Summary = fmt.Sprintf("%slistens on port %d only on %s: Cloudflare cannot reach it (521)", who, port, strings.Join(addrs, ", "))
		c.Fix = []string{
			fmt.Sprintf("grep -rn 'listen.*127.0.0.1:%d\\|listen.*\\[::1\\]:%d' /etc/nginx /etc/apache2 2>/dev/null", port, port),
			fmt.Sprintf("# change it to 'listen %d;' (nginx) or 'Listen %d' (apache), then: nginx -t && systemctl reload nginx", port, port),
		}
	default:
		c.Status = Pass
		c.Summary = fmt.Sprintf("%slistens on %s", who, strings.Join(addrs, ", "))
	}
	return c
}
