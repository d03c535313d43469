package fpmconf

import (
	"bytes"
	"strings"
)

// entry is one meaningful INI line: a [section] header or a key = value.
type entry struct {
	line    int
	section string // set for a [section] line
	key     string
	value   string // unquoted, comment removed
}

// iniError is a syntax error at a line; the caller adds the file name.
type iniError struct {
	line int
	msg  string
}

// parseINI reads php-fpm's INI dialect: one statement a line; ";" and "#"
// start a comment line, ";" also a comment after an unquoted value; values
// may be "double quoted" (\" and \\ escape) or 'single quoted' (raw). It
// never fails as a whole: bad lines are reported and skipped.
func parseINI(data []byte) ([]entry, []iniError) {
	var entries []entry
	var errs []iniError
	n := 0
	for len(data) > 0 {
		n++
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		line := strings.TrimSpace(string(raw))
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				errs = append(errs, iniError{n, "section header without ]: " + quoteLine(line)})
				continue
			}
			name := strings.TrimSpace(line[1:end])
			if rest := strings.TrimSpace(line[end+1:]); rest != "" && rest[0] != ';' && rest[0] != '#' {
				errs = append(errs, iniError{n, "text after section header: " + quoteLine(line)})
				continue
			}
			if name == "" {
				errs = append(errs, iniError{n, "empty section name"})
				continue
			}
			entries = append(entries, entry{line: n, section: name})
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			errs = append(errs, iniError{n, "expected key = value: " + quoteLine(line)})
			continue
		}
		key := strings.TrimSpace(line[:eq])
		if key == "" {
			errs = append(errs, iniError{n, "missing key before =: " + quoteLine(line)})
			continue
		}
		value, msg := parseValue(strings.TrimSpace(line[eq+1:]))
		if msg != "" {
			errs = append(errs, iniError{n, key + ": " + msg})
			continue
		}
		entries = append(entries, entry{line: n, key: key, value: value})
	}
	return entries, errs
}

// parseValue unquotes a value and drops a trailing comment. Quoted and
// unquoted pieces next to each other are joined, as PHP's INI scanner does
// ("/var/log/"$pool".log" is not something to rely on, but it parses).
func parseValue(s string) (string, string) {
	var b strings.Builder
	for len(s) > 0 {
		switch c := s[0]; c {
		case '"':
			i := 1
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return "", "unterminated double quote"
			}
			s = s[i:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", "unterminated single quote"
			}
			b.WriteString(s[1 : 1+end])
			s = s[end+2:]
		case ';':
			return strings.TrimSpace(b.String()), ""
		default:
			end := strings.IndexAny(s, "\"';")
			if end < 0 {
				end = len(s)
			}
			b.WriteString(s[:end])
			s = s[end:]
		}
	}
	return strings.TrimSpace(b.String()), ""
}

// quoteLine shortens a line for an error message.
func quoteLine(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return "\"" + s + "\""
}
