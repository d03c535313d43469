package kmsg

import (
	"bytes"
	"errors"
)

// Header is the prefix of a /dev/kmsg record: "prio,seq,usec,flags[,...];".
type Header struct {
	Prio uint32 // facility<<3 | level
	Seq  uint64
	Usec uint64 // microseconds of the kernel's local_clock (monotonic since boot)
	// Flag is '-' for a whole message; older kernels (3.5–4.8) export
	// fragments they could not merge as 'c' (first) and '+' (following).
	Flag byte
}

var errHeader = errors.New("not a /dev/kmsg record header")

// ParseRecord splits one record as returned by a single read(2) of
// /dev/kmsg into its header and message text. The text ends at the first
// newline: the " KEY=value" dictionary lines that follow it are dropped.
// text aliases b.
func ParseRecord(b []byte) (h Header, text []byte, err error) {
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		return Header{}, nil, errHeader
	}
	head := b[:semi]
	var f [3]uint64
	for i := range f {
		n, used, ok := leadingUint(head)
		if !ok || used >= len(head) || head[used] != ',' {
			return Header{}, nil, errHeader
		}
		f[i] = n
		head = head[used+1:]
	}
	// Newer kernels may append more comma-separated fields after the flag
	// (caller id is in the dictionary, but be lenient).
	if len(head) == 0 || (len(head) > 1 && head[1] != ',') {
		return Header{}, nil, errHeader
	}
	switch head[0] {
	case '-', 'c', '+':
	default:
		return Header{}, nil, errHeader
	}
	if f[0] > 1<<24 {
		return Header{}, nil, errHeader
	}
	h = Header{Prio: uint32(f[0]), Seq: f[1], Usec: f[2], Flag: head[0]}
	text = b[semi+1:]
	if nl := bytes.IndexByte(text, '\n'); nl >= 0 {
		text = text[:nl]
	}
	return h, text, nil
}

// leadingUint parses the decimal digits at the start of b, refusing
// overflow and numbers longer than 20 digits.
func leadingUint(b []byte) (n uint64, used int, ok bool) {
	for used < len(b) && b[used] >= '0' && b[used] <= '9' {
		d := uint64(b[used] - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, 0, false
		}
		n = n*10 + d
		used++
	}
	return n, used, used > 0
}
