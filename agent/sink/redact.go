package sink

import (
	"regexp"
	"strings"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

// Redacted replaces a secret in a shipped line.
const Redacted = "[redacted]"

// Redactor removes secrets from evidence lines and summaries before they
// leave the host. Default rules:
//
//   - URL query strings (in request lines, referers, any token that starts
//     with "/" or contains "://"): parameter names are kept, values are
//     replaced — "GET /x?token=abc&page=2 HTTP/1.1" becomes
//     "GET /x?token=[redacted]&page=[redacted] HTTP/1.1". Names say which
//     endpoint and feature failed; values carry tokens, e-mails and session
//     ids. A parameter without "=" is replaced whole.
//   - "Cookie:" and "Set-Cookie:" (any case): everything after the colon up
//     to the end of the line or the closing quote.
//   - "Authorization:" and "Proxy-Authorization:" (any case): the scheme word
//     (Bearer, Basic, Digest…) is kept, the credentials are replaced.
//   - Extra parameter names: "name=value" anywhere in the line (form bodies,
//     PHP messages) gets its value replaced, up to "&", ";", ",", space or a
//     quote; so does the JSON form "name": "value" (also with \" quotes, as
//     a JSON string inside a log line writes them).
//   - Path parameters in URLs: "/cart;jsessionid=ABC?x" keeps the name and
//     replaces the value.
//   - Credentials in URLs: "https://user:secret@host" keeps the user.
//   - API key headers ("X-Api-Key:", "Api-Key:", "X-Auth-Token:") like
//     Authorization, and a bare "Bearer <token>" anywhere.
//   - E-mail addresses: the local part is replaced, the domain kept.
//   - Card-like numbers: 13 to 19 digits (single spaces or dashes between
//     groups allowed) that pass the Luhn check.
//
// Client IP addresses are not changed: they join an access line to its
// proxy error line, and the receiving side can mask them if it must.
//
// A Redactor is safe for concurrent use.
type Redactor struct {
	extra []string // lower-case names
}

// NewRedactor returns a Redactor with the default rules plus extraParams.
func NewRedactor(extraParams []string) *Redactor {
	r := &Redactor{}
	for _, p := range extraParams {
		if p = strings.TrimSpace(p); p != "" {
			r.extra = append(r.extra, strings.ToLower(p))
		}
	}
	return r
}

// Finding returns a copy of f with Summary and every Evidence text redacted;
// f and its evidence slice are not modified.
func (r *Redactor) Finding(f finding.Finding) finding.Finding {
	f.Summary = r.Line(f.Summary)
	if f.Message != "" {
		f.Message = r.Line(f.Message)
	}
	if len(f.Evidence) > 0 {
		ev := make([]correlate.Evidence, len(f.Evidence))
		copy(ev, f.Evidence)
		for i := range ev {
			ev[i].Text = r.Line(ev[i].Text)
		}
		f.Evidence = ev
	}
	return f
}

// Line returns s with the rules applied.
func (r *Redactor) Line(s string) string {
	s = redactHeader(s, "set-cookie:", false)
	s = redactHeader(s, "cookie:", false)
	s = redactHeader(s, "authorization:", true)
	for _, h := range []string{"x-api-key:", "api-key:", "x-auth-token:"} {
		s = redactHeader(s, h, false)
	}
	s = redactBearer(s)
	s = redactUserinfo(s)
	s = redactPathParams(s)
	s = redactQueries(s)
	for _, name := range r.extra {
		s = redactParam(s, name)
		s = redactJSONField(s, name)
	}
	s = redactEmails(s)
	s = redactCards(s)
	return s
}

// redactHeader replaces the value after every case-insensitive occurrence of
// name. keepScheme keeps a first word such as "Bearer".
func redactHeader(s, name string, keepScheme bool) string {
	lower := asciiLower(s)
	var b strings.Builder
	last, from := 0, 0
	for {
		i := strings.Index(lower[from:], name)
		if i < 0 {
			break
		}
		start := from + i + len(name)
		for start < len(s) && s[start] == ' ' {
			start++
		}
		if keepScheme {
			if j := strings.IndexByte(s[start:], ' '); j > 0 && isScheme(s[start:start+j]) {
				start += j + 1
			}
		}
		end := start
		for end < len(s) && s[end] != '"' && s[end] != '\n' {
			end++
		}
		if end > start && s[start:end] != Redacted {
			b.WriteString(s[last:start])
			b.WriteString(Redacted)
			last = end
		}
		from = end
		if from >= len(s) {
			break
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isScheme(w string) bool {
	switch strings.ToLower(w) {
	case "bearer", "basic", "digest", "negotiate", "ntlm", "apikey", "token", "hoba", "mutual", "aws4-hmac-sha256":
		return true
	}
	return false
}

// redactQueries replaces parameter values in the query of every URL-like
// token.
func redactQueries(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '?' || !urlToken(s, i) {
			continue
		}
		end := i + 1
		for end < len(s) && !queryEnd(s[end]) {
			end++
		}
		q := redactQuery(s[i+1 : end])
		if q != s[i+1:end] {
			b.WriteString(s[last : i+1])
			b.WriteString(q)
			last = end
		}
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// urlToken reports whether the token around s[q] (a '?') is a path or URL.
func urlToken(s string, q int) bool {
	start := q
	for start > 0 && !queryEnd(s[start-1]) {
		start--
	}
	tok := s[start:q]
	return strings.HasPrefix(tok, "/") || strings.Contains(tok, "://")
}

func queryEnd(c byte) bool {
	return c == ' ' || c == '"' || c == '\'' || c == '\t' || c == '\n' || c == '#' || c == ','
}

// redactQuery redacts "a=1&b=2" to "a=[redacted]&b=[redacted]".
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if p == "" {
			continue
		}
		if name, _, ok := strings.Cut(p, "="); ok {
			parts[i] = name + "=" + Redacted
		} else {
			parts[i] = Redacted
		}
	}
	return strings.Join(parts, "&")
}

// redactParam replaces the value of name=value wherever name starts a word.
func redactParam(s, name string) string {
	lower := asciiLower(s)
	key := name + "="
	var b strings.Builder
	last, from := 0, 0
	for {
		i := strings.Index(lower[from:], key)
		if i < 0 {
			break
		}
		at := from + i
		start := at + len(key)
		from = start
		if at > 0 && isNameByte(s[at-1]) {
			continue // "xtoken=" is not "token="
		}
		end := start
		for end < len(s) && !paramEnd(s[end]) {
			end++
		}
		if end > start && s[start:end] != Redacted {
			b.WriteString(s[last:start])
			b.WriteString(Redacted)
			last = end
		}
		from = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '[' || c == ']' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func paramEnd(c byte) bool {
	return c == '&' || c == ';' || c == ',' || c == ' ' || c == '"' || c == '\'' || c == '\n' || c == '\t'
}

var (
	// bearerToken is "Bearer" (any case) and the token after it.
	bearerToken = regexp.MustCompile(`(?i)\b(bearer)\s+([A-Za-z0-9._~+/=-]{8,})`)
	// userinfo is the password of scheme://user:password@host.
	userinfo = regexp.MustCompile(`(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@"']+):([^/\s@"']+)@`)
	// pathParam is ";name=value" in the path of a URL-like token.
	pathParam = regexp.MustCompile(`(/[^\s"'?;]*;[A-Za-z0-9_.-]+=)([^\s"'?;/#&,]+)`)
	// email is an address: its local part is replaced.
	email = regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b`)
	// cardLike is 13–19 digits, groups separated by one space or dash.
	cardLike = regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`)
)

func redactBearer(s string) string {
	if !strings.Contains(strings.ToLower(s), "bearer") {
		return s
	}
	return bearerToken.ReplaceAllStringFunc(s, func(m string) string {
		sub := bearerToken.FindStringSubmatch(m)
		if sub[2] == Redacted {
			return m
		}
		return sub[1] + " " + Redacted
	})
}

func redactUserinfo(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		if sub[2] == Redacted {
			return m
		}
		return sub[1] + ":" + Redacted + "@"
	})
}

func redactPathParams(s string) string {
	if !strings.Contains(s, ";") {
		return s
	}
	return pathParam.ReplaceAllStringFunc(s, func(m string) string {
		sub := pathParam.FindStringSubmatch(m)
		if sub[2] == Redacted || strings.HasPrefix(sub[2], "[redacted") {
			return m
		}
		return sub[1] + Redacted
	})
}

func redactEmails(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return email.ReplaceAllString(s, Redacted+"@$1")
}

func redactCards(s string) string {
	return cardLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := make([]byte, 0, 19)
		for i := 0; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				digits = append(digits, m[i])
			}
		}
		if len(digits) < 13 || !luhn(digits) {
			return m
		}
		return Redacted
	})
}

// luhn reports whether digits pass the Luhn check (every card number does;
// 9 in 10 other digit runs do not).
func luhn(digits []byte) bool {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// redactJSONField replaces the string value of "name": "value" (any case;
// also \"name\":\"value\", a JSON text embedded in a quoted log field).
func redactJSONField(s, name string) string {
	lower := asciiLower(s)
	var b strings.Builder
	last, from := 0, 0
	for _, quote := range []string{`"`, `\"`} {
		key := quote + name + quote
		for {
			i := strings.Index(lower[from:], key)
			if i < 0 {
				break
			}
			j := from + i + len(key)
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j >= len(s) || s[j] != ':' {
				from = j
				continue
			}
			j++
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if !strings.HasPrefix(s[j:], quote) {
				from = j
				continue
			}
			start := j + len(quote)
			end := start
			for end < len(s) && !strings.HasPrefix(s[end:], quote) {
				if quote == `"` && s[end] == '\\' {
					end++ // skip an escaped character
				}
				end++
			}
			end = min(end, len(s))
			if end > start && s[start:end] != Redacted {
				b.WriteString(s[last:start])
				b.WriteString(Redacted)
				last = end
			}
			from = end
		}
		if last > 0 {
			b.WriteString(s[last:])
			s = b.String()
			lower = asciiLower(s)
			b.Reset()
			last = 0
		}
		from = 0
	}
	return s
}

// asciiLower lower-cases ASCII letters only, so that byte offsets found in
// its result are offsets in s (strings.ToLower turns invalid UTF-8 into
// three-byte U+FFFD and shifts them).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
