package apache

import "bytes"

// span is where one directive's value lies in the line.
type span struct{ s, e int }

// matchBudget bounds the backtracking per line: a pathological line makes
// the matcher give up (ErrNoMatch) instead of running for long.
const matchBudget = 4096

// matcher holds the state of one match; it lives on the caller's stack.
type matcher struct {
	line   []byte
	items  []item
	prefix bool
	budget int
	caps   [maxFields]span
	end    int // where the format ended (prefix mode)
	optEnd int // see Format.optEnd
	upto   int // items[:upto] were matched (len(items) unless the line stopped at optEnd)
}

// match reports whether items[i:] match line[pos:]. Directive values are
// tried shortest first: a value ends at the first place where what follows
// in the format matches, and the matcher backtracks to the next such place
// when the rest of the line then fails. A value followed by a literal that
// begins with `"` cannot end before a backslash-escaped quote, which is how
// Apache writes a quote inside a value.
func (m *matcher) match(i, pos int) bool {
	m.budget--
	if m.budget < 0 {
		return false
	}
	line := m.line
	if i == len(m.items) {
		if pos == len(line) || (m.prefix && line[pos] == ' ') {
			m.end, m.upto = pos, i
			return true
		}
		return false
	}
	if i == m.optEnd && i > 0 && pos == len(line) {
		m.end, m.upto = pos, i
		return true
	}
	it := &m.items[i]
	if it.field == fNone {
		if !bytes.HasPrefix(line[pos:], []byte(it.lit)) {
			return false
		}
		return m.match(i+1, pos+len(it.lit))
	}
	var next *item
	if i+1 < len(m.items) {
		next = &m.items[i+1]
	}
	switch it.class {
	case cCLF:
		if pos >= len(line) || line[pos] != '[' {
			return false
		}
		k := bytes.IndexByte(line[pos:], ']')
		if k < 0 {
			return false
		}
		return m.try(i, pos, pos+k+1, next)
	case cAny:
		if next != nil && next.field == fNone {
			lit := []byte(next.lit)
			for e := pos; e <= len(line); {
				k := bytes.Index(line[e:], lit)
				if k < 0 {
					return false
				}
				e += k
				if (lit[0] != '"' || !escaped(line, pos, e)) && m.try(i, pos, e, next) {
					return true
				}
				if m.budget < 0 {
					return false
				}
				e++
			}
			return false
		}
	}
	for e := pos; e <= len(line); e++ {
		if e > pos || it.class == cAny || it.class == cQuery {
			if m.try(i, pos, e, next) {
				return true
			}
			if m.budget < 0 {
				return false
			}
		}
		if e == len(line) || !allowed(it.class, line[e], e == pos) {
			return false
		}
	}
	return false
}

// try records line[s:e] as directive i's value if what follows in the
// format can start at e, and continues the match.
func (m *matcher) try(i, s, e int, next *item) bool {
	line := m.line
	switch {
	case next == nil:
		if e != len(line) && !(m.prefix && line[e] == ' ') {
			return false
		}
	case next.field == fNone:
		if !bytes.HasPrefix(line[e:], []byte(next.lit)) && (i+1 != m.optEnd || e != len(line)) {
			return false
		}
	}
	m.caps[m.items[i].idx] = span{s, e}
	return m.match(i+1, e)
}

// allowed reports whether c may appear in a value of class cl.
func allowed(cl class, c byte, first bool) bool {
	switch cl {
	case cToken:
		return c != ' '
	case cNum:
		return c >= '0' && c <= '9' || c == '-'
	case cQuery:
		if first {
			return c == '?'
		}
		return c != ' '
	}
	return true
}

// escaped reports whether line[e] is preceded by an odd number of
// backslashes after from.
func escaped(line []byte, from, e int) bool {
	n := 0
	for j := e - 1; j >= from && line[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
