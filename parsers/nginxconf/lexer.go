package nginxconf

import (
	"fmt"
	"strings"
)

type tokenKind uint8

const (
	tokWord  tokenKind = iota // a word or a quoted string
	tokSemi                   // ;
	tokOpen                   // {
	tokClose                  // }
)

type token struct {
	kind tokenKind
	text string // the word with quotes removed and escapes resolved
	line int
}

// tokenize splits nginx configuration text the way ngx_conf_read_token
// does: words end at white space, ';' or '{'; '#' at the start of a word
// begins a comment; single and double quotes group, with \" \' \\ \n \r \t
// escapes; "${" inside a word belongs to a variable. name is used in errors.
func tokenize(name string, src []byte) ([]token, error) {
	var toks []token
	line := 1
	i := 0
	for i < len(src) {
		c := src[i]
		switch c {
		case '\n':
			line++
			i++
			continue
		case ' ', '\t', '\r':
			i++
			continue
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case ';':
			toks = append(toks, token{kind: tokSemi, text: ";", line: line})
			i++
			continue
		case '{':
			toks = append(toks, token{kind: tokOpen, text: "{", line: line})
			i++
			continue
		case '}':
			toks = append(toks, token{kind: tokClose, text: "}", line: line})
			i++
			continue
		case '"', '\'':
			start := line
			var b strings.Builder
			i++
			closed := false
			for i < len(src) {
				ch := src[i]
				if ch == '\\' && i+1 < len(src) {
					b.WriteString(unescape(src[i+1]))
					if src[i+1] == '\n' {
						line++
					}
					i += 2
					continue
				}
				if ch == c {
					closed = true
					i++
					break
				}
				if ch == '\n' {
					line++
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%s:%d: unexpected end of file, expecting %q", name, start, string(c))
			}
			toks = append(toks, token{kind: tokWord, text: b.String(), line: start})
			continue
		}
		// A plain word.
		var b strings.Builder
		start := line
		variable := false
		for i < len(src) {
			ch := src[i]
			if ch == '{' && variable {
				b.WriteByte(ch)
				variable = false
				i++
				continue
			}
			if ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ';' || ch == '{' {
				break
			}
			if ch == '\\' && i+1 < len(src) {
				b.WriteString(unescape(src[i+1]))
				if src[i+1] == '\n' {
					line++
				}
				i += 2
				variable = false
				continue
			}
			variable = ch == '$'
			b.WriteByte(ch)
			i++
		}
		toks = append(toks, token{kind: tokWord, text: b.String(), line: start})
	}
	return toks, nil
}

// unescape resolves the character after a backslash as ngx_conf_read_token
// does: \" \' and \\ lose the backslash, \t \r \n become control
// characters, anything else keeps the backslash (regexes need "\.").
func unescape(c byte) string {
	switch c {
	case '"', '\'', '\\':
		return string(c)
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case 'n':
		return "\n"
	}
	return "\\" + string(c)
}
