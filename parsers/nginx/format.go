// Package nginx parses nginx access logs (any log_format, and JSON lines)
// and the nginx error log into parsers.Event values.
//
// Access lines are matched against a compiled log_format (CompileFormat,
// Combined, Main); JSON access lines are read by key (NewJSONAccess). Error
// lines map every message shape of the cause taxonomy to a parsers.Signal
// (NewError). All parsers are pure and allocate nothing per line.
package nginx

import (
	"fmt"
)

// Escape is a log_format's escape= parameter: how nginx wrote variable
// values into the line.
type Escape int

const (
	// EscapeDefault: '"', '\' and bytes outside 0x20..0x7e are written as
	// \xHH, so a value never contains a raw '"'.
	EscapeDefault Escape = iota
	// EscapeJSON: values are JSON-escaped ('"' as \"), unset ones are "".
	EscapeJSON
	// EscapeNone: values are written as they are.
	EscapeNone
)

// Format is a compiled log_format. It is immutable and safe for concurrent
// use by any number of parsers.
type Format struct {
	name  string
	esc   Escape
	items []item
	// Built-in formats only: optEnd > 0 lets a line stop before items[optEnd]
	// (a common-format line read by combined), and needClient refuses a
	// line without a client address (so a $host column is not one).
	optEnd     int
	needClient bool
}

// item is one piece of a format: a literal, or a variable whose value is
// delimited by its shape or by the literal that follows it.
type item struct {
	lit   []byte // literal text; nil for a variable
	name  string // variable name without '$'
	field field
	shape shape
	next  []byte // the literal right after this variable, nil if none
	// optLast: the line may end right after this value (see Format.optEnd).
	optLast bool
}

// Name returns the format's name as given to CompileFormat ("combined"…).
func (f *Format) Name() string { return f.name }

// Fields returns the names of the format's variables in order, without '$'
// (unknown ones included), for diagnostics.
func Fields(f *Format) []string {
	var out []string
	for _, it := range f.items {
		if it.lit == nil {
			out = append(out, it.name)
		}
	}
	return out
}

// CompileFormat compiles the string value of an nginx log_format (already
// concatenated, quotes of the config removed) into a Format. Every $name and
// ${name} is accepted; variables the parser does not know are matched and
// ignored. Errors name the byte position in spec.
func CompileFormat(name, spec string, esc Escape) (*Format, error) {
	if esc < EscapeDefault || esc > EscapeNone {
		return nil, fmt.Errorf("log_format %s: unknown escape %d", name, esc)
	}
	f := &Format{name: name, esc: esc}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			f.items = append(f.items, item{lit: lit})
			lit = nil
		}
	}
	for i := 0; i < len(spec); {
		c := spec[i]
		if c != '$' {
			lit = append(lit, c)
			i++
			continue
		}
		start := i
		i++
		braced := i < len(spec) && spec[i] == '{'
		if braced {
			i++
		}
		j := i
		for j < len(spec) && isNameByte(spec[j]) {
			j++
		}
		if j == i {
			return nil, fmt.Errorf("log_format %s: position %d: invalid variable name after '$'", name, start)
		}
		v := spec[i:j]
		if braced {
			if j >= len(spec) || spec[j] != '}' {
				return nil, fmt.Errorf("log_format %s: position %d: missing '}' after ${%s", name, start, v)
			}
			j++
		}
		i = j
		flush()
		fl := variables[v]
		f.items = append(f.items, item{name: v, field: fl, shape: shapeOf(fl)})
	}
	flush()
	nvars := 0
	for k := range f.items {
		if f.items[k].lit != nil {
			continue
		}
		nvars++
		if k+1 < len(f.items) {
			f.items[k].next = f.items[k+1].lit
		}
	}
	if nvars == 0 {
		return nil, fmt.Errorf("log_format %s: no variables in %q", name, spec)
	}
	return f, nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// CombinedSpec is nginx's built-in "combined" format.
const CombinedSpec = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// MainSpec is the "main" format of the nginx.org and Debian example
// nginx.conf: combined plus the X-Forwarded-For header.
const MainSpec = CombinedSpec + ` "$http_x_forwarded_for"`

// VhostCombinedSpec is combined behind the virtual host's name, a common
// hand-written format ("$host $remote_addr - …"; Debian's apache
// vhost_combined is the same with ":port").
const VhostCombinedSpec = `$host ` + CombinedSpec

// Combined returns nginx's built-in combined format. Lines with extra fields
// after it (any format that begins with combined, such as main) parse too;
// see NewAccess for what is read from the extra text. A line that ends
// after $body_bytes_sent (the common log format) parses as well.
func Combined() *Format { return builtin("combined", CombinedSpec) }

// Main returns the "main" format of the stock nginx.conf.
func Main() *Format { return builtin("main", MainSpec) }

// VhostCombined returns VhostCombinedSpec ("vhost_combined").
func VhostCombined() *Format { return builtin("vhost_combined", VhostCombinedSpec) }

func builtin(name, spec string) *Format {
	f, err := CompileFormat(name, spec, EscapeDefault)
	if err != nil {
		panic("nginx: " + name + " format does not compile: " + err.Error()) // a constant: cannot happen
	}
	f.needClient = true
	for k := range f.items {
		if f.items[k].field == fBodyBytes && k+1 < len(f.items) {
			f.items[k].optLast = true
			f.optEnd = k + 1
		}
	}
	return f
}
