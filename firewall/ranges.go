package firewall

import (
	"bytes"
	_ "embed" // embedded fallback lists
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

//go:embed ips-v4.txt
var embeddedV4 []byte

//go:embed ips-v6.txt
var embeddedV6 []byte

// Family is an address family.
type Family int

// Address families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "ipv4" or "ipv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return fmt.Sprintf("family(%d)", int(f))
}

func (f Family) has(a netip.Addr) bool {
	return (f == IPv4 && a.Is4()) || (f == IPv6 && a.Is6() && !a.Is4In6())
}

// Plausible size of a published list. Cloudflare publishes 15 IPv4 and 7 IPv6
// ranges; an answer outside these bounds is garbage or an error page.
const (
	minRanges = 5
	maxRanges = 100
)

// Sources of a Ranges value.
const (
	SourceEmbedded = "embedded"
	SourceFile     = "file"
)

// Ranges is one snapshot of Cloudflare's published ranges.
type Ranges struct {
	V4, V6  []netip.Prefix
	ETag    string    // from the JSON API or the HTTP ETag header
	Fetched time.Time // zero for the embedded list
	Source  string    // SourceEmbedded, SourceFile, or the URL it came from
}

// All returns V4 followed by V6.
func (r Ranges) All() []netip.Prefix {
	return append(slices.Clone(r.V4), r.V6...)
}

// Embedded returns the list compiled into the binary (Source "embedded").
// The embedded files are validated by tests, so an error here is a build bug;
// it is still returned rather than panicking.
func Embedded() (Ranges, error) {
	v4, err := ParseList(embeddedV4, IPv4)
	if err != nil {
		return Ranges{}, fmt.Errorf("embedded ips-v4.txt: %w", err)
	}
	v6, err := ParseList(embeddedV6, IPv6)
	if err != nil {
		return Ranges{}, fmt.Errorf("embedded ips-v6.txt: %w", err)
	}
	return Ranges{V4: v4, V6: v6, Source: SourceEmbedded}, nil
}

// staleRanges were published by Cloudflare once and are no longer: a firewall
// that still allows them lets non-Cloudflare hosts in.
var staleRanges = [...]netip.Prefix{
	netip.MustParsePrefix("104.16.0.0/12"),
	netip.MustParsePrefix("199.27.128.0/21"),
}

// IsStale reports whether p is one of the ranges Cloudflare published once
// and no longer does (104.16.0.0/12, 199.27.128.0/21), or lies inside
// 199.27.128.0/21, which is retired entirely. A firewall that still allows a
// stale range lets non-Cloudflare hosts in. Current ranges inside a stale one
// (104.16.0.0/13 inside 104.16.0.0/12) are not stale.
func IsStale(p netip.Prefix) bool {
	p = p.Masked()
	for _, s := range staleRanges {
		if p == s {
			return true
		}
	}
	return staleRanges[1].Contains(p.Addr()) && p.Bits() >= staleRanges[1].Bits()
}

// ErrBadList is wrapped by every validation error of ParseList and ParseAPI.
var ErrBadList = errors.New("invalid Cloudflare range list")

// ParseList parses the plain-text form served at /ips-v4 and /ips-v6: one CIDR
// per non-empty line (surrounding blanks and CR are ignored). It rejects the
// list unless every line is a CIDR of family fam with no host bits set, the
// count is plausible (5..100), no range is private, loopback, link-local,
// multicast, unspecified or a default route, and no range repeats or
// overlaps another.
func ParseList(body []byte, fam Family) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(out) >= maxRanges {
			return nil, fmt.Errorf("%w: more than %d ranges", ErrBadList, maxRanges)
		}
		p, err := netip.ParsePrefix(string(line))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %q is not a CIDR", ErrBadList, i+1, truncate(line, 40))
		}
		out = append(out, p)
	}
	if err := validate(out, fam); err != nil {
		return nil, err
	}
	return out, nil
}

func validate(list []netip.Prefix, fam Family) error {
	if len(list) < minRanges || len(list) > maxRanges {
		return fmt.Errorf("%w: %d %s ranges, want %d..%d", ErrBadList, len(list), fam, minRanges, maxRanges)
	}
	for i, p := range list {
		a := p.Addr()
		switch {
		case !fam.has(a):
			return fmt.Errorf("%w: %s is not %s", ErrBadList, p, fam)
		case p != p.Masked():
			return fmt.Errorf("%w: %s has host bits set (want %s)", ErrBadList, p, p.Masked())
		case p.Bits() < 8:
			return fmt.Errorf("%w: %s is too wide", ErrBadList, p)
		case a.IsPrivate(), a.IsLoopback(), a.IsLinkLocalUnicast(), a.IsMulticast(),
			a.IsUnspecified(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
			return fmt.Errorf("%w: %s is not a public range", ErrBadList, p)
		}
		for _, q := range list[:i] {
			if q.Overlaps(p) {
				return fmt.Errorf("%w: %s repeats or overlaps %s", ErrBadList, p, q)
			}
		}
	}
	return nil
}

// apiResponse is the body of https://api.cloudflare.com/client/v4/ips.
type apiResponse struct {
	Success bool `json:"success"`
	Result  struct {
		IPv4 []string `json:"ipv4_cidrs"`
		IPv6 []string `json:"ipv6_cidrs"`
		ETag string   `json:"etag"`
	} `json:"result"`
}

// ParseAPI parses the JSON API form
// {"result":{"ipv4_cidrs":[…],"ipv6_cidrs":[…],"etag":"…"},"success":true}
// and validates both lists as ParseList does. Source and Fetched are left
// for the caller.
func ParseAPI(body []byte) (Ranges, error) {
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return Ranges{}, fmt.Errorf("%w: JSON: %w", ErrBadList, err)
	}
	if !r.Success {
		return Ranges{}, fmt.Errorf("%w: API answered success=false", ErrBadList)
	}
	v4, err := parseStrings(r.Result.IPv4, IPv4)
	if err != nil {
		return Ranges{}, fmt.Errorf("ipv4_cidrs: %w", err)
	}
	v6, err := parseStrings(r.Result.IPv6, IPv6)
	if err != nil {
		return Ranges{}, fmt.Errorf("ipv6_cidrs: %w", err)
	}
	return Ranges{V4: v4, V6: v6, ETag: r.Result.ETag}, nil
}

func parseStrings(list []string, fam Family) ([]netip.Prefix, error) {
	if len(list) > maxRanges {
		return nil, fmt.Errorf("%w: %d ranges, want at most %d", ErrBadList, len(list), maxRanges)
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a CIDR", ErrBadList, truncate([]byte(s), 40))
		}
		out = append(out, p)
	}
	if err := validate(out, fam); err != nil {
		return nil, err
	}
	return out, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Diff is the change between two lists.
type Diff struct {
	Added, Removed []netip.Prefix
}

// Empty reports whether nothing changed.
func (d Diff) Empty() bool { return len(d.Added) == 0 && len(d.Removed) == 0 }

// DiffRanges returns what new has that old lacks (Added) and the reverse
// (Removed), over both families, in the order of the lists.
func DiffRanges(old, new Ranges) Diff {
	o, n := old.All(), new.All()
	var d Diff
	for _, p := range n {
		if !slices.Contains(o, p) {
			d.Added = append(d.Added, p)
		}
	}
	for _, p := range o {
		if !slices.Contains(n, p) {
			d.Removed = append(d.Removed, p)
		}
	}
	return d
}
