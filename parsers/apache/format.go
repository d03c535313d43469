// Package apache parses Apache httpd logs: access logs in any mod_log_config
// LogFormat (CompileLogFormat, NewAccess) and the 2.4 / 2.2 error log
// (NewError).
//
// Like every parser in this module it is pure and allocates nothing per
// line: Event's []byte fields alias the line. Apache writes `"` inside
// logged values as `\"`, `\` as `\\` and non-printable bytes as \xhh; those
// escapes are kept as they are in the aliased fields (unescaping would
// allocate).
package apache

import (
	"fmt"
	"strings"
)

// maxFields bounds the directives in one format, so the matcher keeps its
// captures in a fixed array on the stack.
const maxFields = 64

// Format is a compiled LogFormat. It is immutable and safe for concurrent
// use by any number of parsers.
type Format struct {
	name  string
	items []item
	// prefix lets a line carry extra text after the format (the built-in
	// common/combined formats, which real configs extend at the end).
	prefix bool
	nField int
	// optEnd, when > 0, is the index of the first item a line may stop
	// before: the built-in combined formats read a common line (one that
	// ends after %O) rather than leave it to a poorer format.
	optEnd int
	// needClient makes a line whose %h/%a is "-" a mismatch: built-in
	// formats only, where it tells a vhost column from a client.
	needClient bool
}

// Name returns the nickname the format was compiled with.
func (f *Format) Name() string { return f.name }

// item is one piece of a format: literal text, or one % directive.
type item struct {
	lit   string // literal text (field == fNone)
	field field
	class class
	arg   string // the {…} argument, e.g. the strftime format of %{…}t
	idx   int    // capture index of a directive
}

// field says what a directive's value means for the Event.
type field uint8

const (
	fNone field = iota // a literal
	fOther
	fRemoteHost   // %h
	fRemoteIP     // %a
	fPeerIP       // %{c}a, %{c}h
	fTimeCLF      // %t
	fTimeFmt      // %{strftime}t
	fTimeSec      // %{sec}t
	fTimeMsec     // %{msec}t
	fTimeUsec     // %{usec}t
	fTimeMsecFrac // %{msec_frac}t
	fTimeUsecFrac // %{usec_frac}t
	fRequest      // %r
	fStatusFinal  // %>s
	fStatusOrig   // %s, %<s
	fBytesCLF     // %b
	fBytesBody    // %B
	fBytesOut     // %O
	fDurUs        // %D, %{us}T
	fDurMs        // %{ms}T
	fDurSec       // %T, %{s}T
	fHostHeader   // %{Host}i
	fServerName   // %V
	fVHost        // %v
	fCFRay        // %{CF-Ray}i
	fCFIP         // %{CF-Connecting-IP}i
	fXFF          // %{X-Forwarded-For}i
	fUserAgent    // %{User-Agent}i
	fReferer      // %{Referer}i
	fPID          // %P, %{pid}P
	fMethod       // %m
	fPath         // %U
	fQuery        // %q
	fProto        // %H
)

// class is what bytes a directive's value may hold; it prunes the matcher.
type class uint8

const (
	cAny   class = iota // anything (escaped by Apache)
	cToken              // no space
	cNum                // digits, or "-"
	cCLF                // "[...]" as %t prints it
	cQuery              // empty, or "?" followed by no space
)

// CompileLogFormat compiles a mod_log_config format string, as it stands
// after Apache's config tokenizer removed the outer quotes (so `"%r"`, not
// `\"%r\"`). Backslash escapes \n, \r, \t and \\ are processed as
// mod_log_config does. Unknown directives are an error, as they are for
// Apache.
func CompileLogFormat(name, spec string) (*Format, error) {
	f := &Format{name: name}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.items = append(f.items, item{lit: lit.String()})
			lit.Reset()
		}
	}
	s := spec
	for len(s) > 0 {
		c := s[0]
		if c == '\\' && len(s) > 1 {
			switch s[1] {
			case '\\':
				lit.WriteByte('\\')
			case 'n':
				lit.WriteByte('\n')
			case 'r':
				lit.WriteByte('\r')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte('\\')
				s = s[1:]
				continue
			}
			s = s[2:]
			continue
		}
		if c != '%' {
			lit.WriteByte(c)
			s = s[1:]
			continue
		}
		it, rest, isLit, err := parseDirective(s[1:])
		if err != nil {
			return nil, fmt.Errorf("LogFormat %q: %w", spec, err)
		}
		s = rest
		if isLit {
			lit.WriteString(it.lit)
			continue
		}
		flush()
		if f.nField == maxFields {
			return nil, fmt.Errorf("LogFormat %q: more than %d directives", spec, maxFields)
		}
		it.idx = f.nField
		f.nField++
		f.items = append(f.items, it)
	}
	flush()
	if f.nField == 0 {
		return nil, fmt.Errorf("LogFormat %q: no directives", spec)
	}
	return f, nil
}

// parseDirective parses what follows a '%': modifiers (!, <, >, status
// lists), an optional {argument} and the directive letter.
func parseDirective(s string) (it item, rest string, isLit bool, err error) {
	final := false // '>' seen: the final status (%>s); '<' or nothing: the original
	arg := ""
	hasArg := false
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '!' || c == ',':
			s = s[1:]
		case c == '<':
			final = false
			s = s[1:]
		case c == '>':
			final = true
			s = s[1:]
		case c >= '0' && c <= '9':
			s = s[1:]
		case c == '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return item{}, "", false, fmt.Errorf("unterminated {argument}")
			}
			arg, hasArg = s[1:end], true
			s = s[end+1:]
		case c == '%':
			return item{lit: "%"}, s[1:], true, nil
		case c == '^':
			// %^ti / %^to: request / response trailers.
			if len(s) < 3 || s[1] != 't' || (s[2] != 'i' && s[2] != 'o') {
				return item{}, "", false, fmt.Errorf("unrecognized directive %%%s", prefixOf(s, 3))
			}
			return item{field: fOther, class: cAny, arg: arg}, s[3:], false, nil
		default:
			it, err := directive(c, arg, hasArg, final)
			if err != nil {
				return item{}, "", false, err
			}
			return it, s[1:], false, nil
		}
	}
	return item{}, "", false, fmt.Errorf("format ends inside a directive")
}

func prefixOf(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// directive maps one letter (with its argument) to a field and class.
func directive(c byte, arg string, hasArg, final bool) (item, error) {
	it := item{field: fOther, class: cAny, arg: arg}
	switch c {
	case 'h':
		it.field, it.class = fRemoteHost, cToken
		if arg == "c" {
			it.field = fPeerIP
		}
	case 'a':
		it.field, it.class = fRemoteIP, cToken
		if arg == "c" {
			it.field = fPeerIP
		}
	case 'A', 'l', 'H', 'L', 'v', 'V', 'X', 'R':
		it.class = cToken
		switch c {
		case 'H':
			it.field = fProto
		case 'v':
			it.field = fVHost
		case 'V':
			it.field = fServerName
		}
	case 'u', 'f', 'm':
		if c == 'm' {
			it.field = fMethod
		}
	case 'U':
		it.field = fPath
	case 'q':
		it.field, it.class = fQuery, cQuery
	case 'r':
		it.field = fRequest
	case 't':
		it.field = timeField(arg, hasArg)
		switch it.field {
		case fTimeCLF:
			it.class = cCLF
		case fTimeFmt:
			it.class = cAny
		default:
			it.class = cNum
		}
		it.arg = strings.TrimPrefix(strings.TrimPrefix(arg, "begin:"), "end:")
	case 's':
		it.field, it.class = fStatusOrig, cNum
		if final {
			it.field = fStatusFinal
		}
	case 'b':
		it.field, it.class = fBytesCLF, cNum
	case 'B':
		it.field, it.class = fBytesBody, cNum
	case 'O':
		it.field, it.class = fBytesOut, cNum
	case 'I', 'S', 'k':
		it.class = cNum
	case 'D':
		it.field, it.class = fDurUs, cNum
	case 'T':
		it.class = cNum
		switch arg {
		case "", "s":
			it.field = fDurSec
		case "ms":
			it.field = fDurMs
		case "us":
			it.field = fDurUs
		default:
			return item{}, fmt.Errorf("unrecognized %%{%s}T unit", arg)
		}
	case 'p':
		it.class = cNum
	case 'P':
		switch arg {
		case "", "pid":
			it.field, it.class = fPID, cNum
		case "tid":
			it.class = cNum
		default: // hextid and unknowns
			it.class = cToken
		}
	case 'i':
		it.field = headerField(arg)
	case 'o', 'e', 'n', 'C', 'x':
	default:
		return item{}, fmt.Errorf("unrecognized directive %%%c", c)
	}
	return it, nil
}

func timeField(arg string, hasArg bool) field {
	if !hasArg {
		return fTimeCLF
	}
	a := strings.TrimPrefix(strings.TrimPrefix(arg, "begin:"), "end:")
	switch a {
	case "sec":
		return fTimeSec
	case "msec":
		return fTimeMsec
	case "usec":
		return fTimeUsec
	case "msec_frac":
		return fTimeMsecFrac
	case "usec_frac":
		return fTimeUsecFrac
	case "":
		return fTimeCLF
	}
	return fTimeFmt
}

func headerField(name string) field {
	switch strings.ToLower(name) {
	case "host":
		return fHostHeader
	case "cf-ray":
		return fCFRay
	case "cf-connecting-ip":
		return fCFIP
	case "x-forwarded-for":
		return fXFF
	case "user-agent":
		return fUserAgent
	case "referer":
		return fReferer
	}
	return fOther
}

// The Debian apache2.conf definitions.
const (
	SpecCommon        = `%h %l %u %t "%r" %>s %O`
	SpecCombined      = `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
	SpecVhostCombined = `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
	// SpecCLF is mod_log_config's built-in default (nickname "CLF"), used by
	// TransferLog when no default LogFormat is set.
	SpecCLF = `%h %l %u %t "%r" %>s %b`
	// SpecVhostNoPort is combined behind the virtual host's name without
	// the port ("%v %h …"), a common hand-written variant.
	SpecVhostNoPort = `%v %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
	// SpecSSLRequest is mod_ssl's ssl_request_log (the ssl.conf of Red Hat
	// and the Apache distribution): no status, so its lines count requests.
	SpecSSLRequest = `%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b`
)

func mustBuiltin(name, spec string) *Format {
	f, err := CompileLogFormat(name, spec)
	if err != nil {
		// The specs are constants above; a failure is a bug caught by tests.
		panic(err)
	}
	f.prefix = true
	f.needClient = true
	for i := range f.items {
		// %u and the like: one word in the built-in formats, so that a
		// vhost line ("vhost 1.2.3.4 - - […]") is not read with "- -" as
		// the user and the vhost as the client.
		if f.items[i].field == fOther && f.items[i].class == cAny {
			f.items[i].class = cToken
		}
	}
	for i, it := range f.items {
		if it.field == fBytesOut && i+1 < len(f.items) {
			f.optEnd = i + 1
		}
	}
	return f
}

// Common returns Debian's "common" format (%O as the size; %b lines parse
// the same). Lines may carry extra fields after it; they are ignored.
func Common() *Format { return mustBuiltin("common", SpecCommon) }

// Combined returns Debian's "combined" format. Lines may carry extra
// fields after it (formats that begin with combined): they are ignored,
// except a trailing "%T/%D" pair, whose %D becomes RequestTime when the two
// agree. A lone trailing number is not used: %D, %T and %I look alike.
func Combined() *Format { return mustBuiltin("combined", SpecCombined) }

// VhostCombined returns Debian's "vhost_combined" format (used by
// other-vhosts-access-log.conf). Extra trailing fields are ignored.
func VhostCombined() *Format { return mustBuiltin("vhost_combined", SpecVhostCombined) }

// VhostNoPort returns SpecVhostNoPort ("vhost_combined_noport").
func VhostNoPort() *Format { return mustBuiltin("vhost_combined_noport", SpecVhostNoPort) }

// SSLRequest returns mod_ssl's ssl_request_log format ("ssl_request").
// Its events have no Status: they count requests, not errors.
func SSLRequest() *Format { return mustBuiltin("ssl_request", SpecSSLRequest) }
