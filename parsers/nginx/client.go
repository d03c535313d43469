package nginx

import (
	"bytes"
	"net/netip"
	"unsafe"

	"github.com/origin-agent/origin-agent/parsers"
)

// A client field ($remote_addr where the format puts it) is one address as
// nginx writes it. Real logs put other things there, and the client is
// what joins an access line to its error line, so it is read with care:
//
//   - "vhost1.example 192.0.2.2" (a $host column before the address): the
//     first word is the Host when it is not an address itself;
//   - "10.0.0.2, 10.0.0.1, 81.2.69.143" (an X-Forwarded-For list written
//     where the address stands, $proxy_add_x_forwarded_for), also quoted
//     and followed by the peer ("\"10.5.102.222, 199.96.1.1\" 10.2.1.185").
//
// For a list, Client is the left-most public address (the first that is
// not private, loopback, link-local or otherwise special), else the
// left-most address: proxies append, so the left-most entries are the
// visitor's side, and skipping private ones steps over the visitor's own
// NAT and internal hops. real_ip_recursive walks from the right instead,
// trusting the configured proxies; without that configuration the
// right-most public address is the CDN edge next to the origin (the same
// for every visitor behind it), not the visitor a user means. RemoteAddr is
// the right-most entry (the peer nearest the origin), and Forwarded keeps
// the whole list.
//
// A single word (the common case) is taken as it is, without validation:
// nginx writes an address or "unix:" there, Apache a host name when
// HostnameLookups is on. Lists are parsed with net/netip, without
// allocating.
type clientField struct {
	remote, client, host, list []byte
}

// maxListWords bounds the words of a client field examined.
const maxListWords = 16

// plainWord reports whether a client field is one word (or empty): the
// common case, taken as it is.
func plainWord(v []byte) bool {
	// A list has ", " or " " between its words; a quoted one a space too.
	return bytes.IndexByte(v, ' ') < 0 && bytes.IndexByte(v, ',') < 0
}

// resolveInto sets ev's RemoteAddr, Client and Forwarded from a client
// field that is not one word, and returns a host column found before it.
// Apart from record.event so that the common path keeps a small frame.
//
//go:noinline
func resolveInto(v []byte, ev *parsers.Event) (host []byte) {
	c := resolveClient(v)
	ev.RemoteAddr, ev.Client, ev.Forwarded = c.remote, c.client, c.list
	return c.host
}

func resolveClient(v []byte) (c clientField) {
	if plainWord(v) {
		c.remote, c.client = v, v
		return c
	}
	var words [maxListWords][2]int
	n := 0
	for i := 0; i < len(v) && n < maxListWords; {
		for i < len(v) && (v[i] == ' ' || v[i] == ',' || v[i] == '"') {
			i++
		}
		j := i
		for j < len(v) && v[j] != ' ' && v[j] != ',' && v[j] != '"' {
			j++
		}
		if j > i {
			words[n] = [2]int{i, j}
			n++
		}
		i = j
	}
	if n == 0 {
		return c
	}
	first := 0
	if _, ok := addrOf(v[words[0][0]:words[0][1]]); !ok && n > 1 {
		c.host = v[words[0][0]:words[0][1]]
		first = 1
	}
	c.list = v[words[first][0]:words[n-1][1]]
	c.remote = v[words[n-1][0]:words[n-1][1]]
	var any []byte
	for k := first; k < n; k++ {
		w := v[words[k][0]:words[k][1]]
		a, ok := addrOf(w)
		if !ok {
			continue
		}
		if any == nil {
			any = w
		}
		if public(a) {
			c.client = w
			return c
		}
	}
	if any == nil {
		any = v[words[first][0]:words[first][1]] // "localhost", "unix:"
	}
	c.client = any
	return c
}

func addrOf(w []byte) (netip.Addr, bool) {
	if len(w) < 2 || !isAddr(w) {
		return netip.Addr{}, false
	}
	// The string aliases the line only for the call: netip keeps nothing
	// of it in an Addr (a zone is copied), and the error is dropped.
	a, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(w), len(w)))
	return a, err == nil
}

// public reports whether a is an address a visitor on the Internet has.
func public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// special are global-unicast ranges that are not visitors: shared address
// space (CGNAT), documentation and benchmarking ranges.
var special = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}
