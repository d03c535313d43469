// Package detect tells a log file's format from its first lines.
//
// It is pure: the caller reads the lines and builds the candidate parsers
// (built-in formats plus any read from a server's config); Detect runs each
// candidate over the sample and picks the one that parses the most lines,
// breaking ties by what the file's name suggests and then by order.
package detect

import (
	"bytes"
	"errors"
	"path"
	"strings"

	"github.com/origin-agent/origin-agent/parsers"
)

// Candidate is one way to read a file.
type Candidate struct {
	Type  parsers.Type
	Name  string // format name, e.g. "combined", "main", "json"
	Parse parsers.Func
	// Own, when set, is the format alone (Parse then also reads lines with
	// other formats, as the file would be read): of candidates that read
	// the sample equally well, the one whose own format reads more wins.
	Own parsers.Func
}

// MinShare is the fraction of sampled non-empty lines a candidate must parse
// to be chosen; below it the file is "not a log we know".
const MinShare = 0.5

// A candidate qualifies when it parses at least MinShare of the sampled
// lines and at least one in ten carries a time stamp.

// Result says which candidate won and how well.
type Result struct {
	Index   int // into the candidates; -1 when none qualifies
	Matched int // sample lines it parsed
	Sampled int // non-empty sample lines (continuation lines excluded for the winner)
	// Near is the candidate that parsed the most lines when none qualified
	// (-1 if none parsed any), and NearMatched how many: a file named with
	// an explicit type may still be read with it.
	Near        int
	NearMatched int
}

// Detect picks the candidate for sample, the first lines of the file at
// name (the name only breaks ties). Among candidates that qualify, the one
// with the most stamped and parsed lines wins; then the name's hint; then
// the one whose own format (Candidate.Own) reads more; then the richer (the one whose events carry more fields: combined over
// common, vhost_combined over combined when every line has a host); then
// the first. Lines a candidate reports as continuations
// (parsers.ErrContinuation) right after a line it parsed are left out of
// its count: they belong to that line's message.
func Detect(name string, sample [][]byte, cands []Candidate) Result {
	res := Result{Index: -1, Near: -1}
	hint := Hint(name)
	bestScore, bestRich := -1, -1
	sampled := 0
	for _, l := range sample {
		if len(bytes.TrimSpace(l)) > 0 {
			sampled++
		}
	}
	res.Sampled = sampled
	if sampled == 0 {
		return res
	}
	bestOwn := -1
	for i, c := range cands {
		n, stamped, cont, rich, own := 0, 0, 0, 0, 0
		prevOK := false
		for _, l := range sample {
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			ev, err := c.Parse(l)
			if err == nil {
				n++
				if c.Own == nil {
					own++
				} else if _, err := c.Own(l); err == nil {
					own++
				}
				rich += richness(&ev)
				if !ev.Time.IsZero() || ev.Monotonic != 0 || ev.Seq != 0 {
					stamped++
				}
				prevOK = true
				continue
			}
			if prevOK && errors.Is(err, parsers.ErrContinuation) {
				cont++
				continue
			}
			prevOK = false
		}
		total := sampled - cont
		if n > res.NearMatched {
			res.Near, res.NearMatched = i, n
		}
		// Some formats accept unstamped continuation lines (kernel
		// dictionaries, slowlog stacks); a file of nothing but those (a
		// config file, a README) is not a log.
		if float64(n) < MinShare*float64(total) || stamped == 0 || stamped*10 < total {
			continue
		}
		// Stamped lines dominate, then parsed ones; the name's hint breaks ties.
		score := stamped*8 + n*4
		if hint != "" && c.Type == hint {
			score += 2
		} else if hint != "" && sameServer(c.Type, hint) {
			score++
		}
		if score > bestScore || score == bestScore && (own > bestOwn || own == bestOwn && rich > bestRich) {
			bestScore, bestOwn, bestRich, res.Index, res.Matched, res.Sampled = score, own, rich, i, n, total
		}
	}
	if res.Index >= 0 {
		res.Near, res.NearMatched = -1, 0
	}
	return res
}

// richness counts the fields of an event that a poorer format would leave
// out.
func richness(ev *parsers.Event) int {
	n := 0
	for _, b := range [...][]byte{ev.Client, ev.Host, ev.Referer, ev.UserAgent, ev.UpstreamStatus, ev.Upstream, ev.CFRay} {
		if b != nil {
			n++
		}
	}
	if ev.Status != 0 {
		n++
	}
	if ev.RequestTime >= 0 && ev.Kind == parsers.KindAccess {
		n++
	}
	return n
}

// Hint returns the type a file's name suggests, or "".
func Hint(name string) parsers.Type {
	p := strings.ToLower(name)
	base := path.Base(strings.ReplaceAll(p, "\\", "/"))
	apache := strings.Contains(p, "apache") || strings.Contains(p, "httpd")
	switch {
	case strings.Contains(base, "fpm") || strings.Contains(base, "php"):
		return parsers.TypePHPFPM
	case strings.Contains(base, "kern") || strings.Contains(base, "dmesg") || strings.Contains(base, "kmsg"):
		return parsers.TypeKernel
	case strings.Contains(base, "error"):
		if apache {
			return parsers.TypeApacheError
		}
		return parsers.TypeNginxError
	case strings.Contains(base, "access") || strings.Contains(base, "request"):
		if apache {
			return parsers.TypeApacheAccess
		}
		return parsers.TypeNginxAccess
	}
	return ""
}

func sameServer(a, b parsers.Type) bool {
	return strings.SplitN(string(a), "_", 2)[0] == strings.SplitN(string(b), "_", 2)[0]
}

// IsAccess reports whether t is an access-log type.
func IsAccess(t parsers.Type) bool {
	return t == parsers.TypeNginxAccess || t == parsers.TypeApacheAccess
}
