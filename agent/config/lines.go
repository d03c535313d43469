package config

import (
	"strconv"
	"strings"
)

// keyLines maps every key and table of a TOML document to its 1-based line:
// "agent" → line of [agent], "sources.nginx_access" → line of that key,
// "sinks.1" → line of the second [[sinks]], "sinks.1.url" → its url key.
// BurntSushi/toml keeps key positions private, so this is a light scanner of
// its own; it only needs to be right for documents toml already accepted.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	arrays := map[string]int{} // array-of-tables path (no indexes) → elements seen
	prefix := ""
	var multi string // closing delimiter of an open multi-line string
	depth := 0       // open [ and { of a multi-line value
	for n, line := range strings.Split(string(data), "\n") {
		n++
		if multi != "" {
			if i := strings.Index(line, multi); i >= 0 {
				multi = ""
				depth, multi = scanValue(line[i+3:], depth)
			}
			continue
		}
		if depth > 0 {
			depth, multi = scanValue(line, depth)
			continue
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		if strings.HasPrefix(t, "[[") {
			end := strings.Index(t, "]]")
			if end < 0 {
				continue
			}
			segs := splitKey(t[2:end])
			parent := resolve(segs[:len(segs)-1], arrays)
			plain := strings.Join(segs, ".")
			idx := arrays[plain]
			arrays[plain]++
			prefix = join(join(parent, segs[len(segs)-1]), strconv.Itoa(idx))
			lines[prefix] = n
			continue
		}
		if t[0] == '[' {
			end := strings.LastIndexByte(t, ']')
			if end < 0 {
				continue
			}
			prefix = resolve(splitKey(t[1:end]), arrays)
			if _, ok := lines[prefix]; !ok {
				lines[prefix] = n
			}
			continue
		}
		eq := keyEnd(t)
		if eq < 0 {
			continue
		}
		path := prefix
		for _, s := range splitKey(t[:eq]) {
			path = join(path, s)
			if _, ok := lines[path]; !ok {
				lines[path] = n
			}
		}
		depth, multi = scanValue(t[eq+1:], 0)
	}
	return lines
}

// resolve turns table segments into an indexed path: a segment naming an
// array of tables refers to its latest element.
func resolve(segs []string, arrays map[string]int) string {
	path, plain := "", ""
	for _, s := range segs {
		path, plain = join(path, s), join(plain, s)
		if n, ok := arrays[plain]; ok && n > 0 {
			path = join(path, strconv.Itoa(n-1))
		}
	}
	return path
}

// keyEnd returns the index of the = that ends a key, outside quotes.
func keyEnd(s string) int {
	var q byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '=':
			return i
		}
	}
	return -1
}

// splitKey splits a dotted key into unquoted segments.
func splitKey(s string) []string {
	var segs []string
	var b strings.Builder
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			q = c
		case c == '.':
			segs = append(segs, strings.TrimSpace(b.String()))
			b.Reset()
		case c == ' ' || c == '\t':
		default:
			b.WriteByte(c)
		}
	}
	return append(segs, strings.TrimSpace(b.String()))
}

// scanValue follows brackets and strings through a value's text, starting
// at depth, and returns the depth after it and the delimiter of a
// multi-line string left open.
func scanValue(s string, depth int) (int, string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '#':
			return depth, ""
		case '[', '{':
			depth++
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '"', '\'':
			if strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], `'''`) {
				delim := s[i : i+3]
				end := strings.Index(s[i+3:], delim)
				if end < 0 {
					return depth, delim
				}
				i += 3 + end + 2
				continue
			}
			j := i + 1
			for j < len(s) && s[j] != c {
				if c == '"' && s[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		}
	}
	return depth, ""
}
