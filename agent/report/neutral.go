package report

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// Log lines are written by whoever sends a request: a URL, a User-Agent or
// a host name can carry terminal escapes (ESC [ …), C1 controls, or
// Unicode bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its
// kin) that make a report show other text than it holds ("Trojan Source").
// Every rendered report goes through neutralize, whatever field the text
// came from: such a character is shown as [U+XXXX] instead. Tabs and line
// breaks stay (the reports' own layout uses them).
func neutralize(b []byte) []byte {
	i := 0
	for i < len(b) && !suspect(b[i]) {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if !suspect(c) {
			out = append(out, c)
			i++
			continue
		}
		r, n := rune(c), 1
		if c >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(b[i:])
		}
		if r != utf8.RuneError && hidden(r) {
			out = fmt.Appendf(out, "[U+%04X]", r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// suspect is a byte that may begin a character neutralize replaces.
func suspect(c byte) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f || c >= utf8.RuneSelf
}

// hidden reports whether r is a control character or an invisible
// formatting character that changes how text around it is shown.
func hidden(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\r'
	case r >= 0x7f && r <= 0x9f: // DEL, C1 controls (0x9b is a CSI)
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// neutralWriter neutralizes what is written through it; the caller writes
// whole characters (a buffered report, or printf of whole strings).
type neutralWriter struct{ w io.Writer }

func (n neutralWriter) Write(p []byte) (int, error) {
	if _, err := n.w.Write(neutralize(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
