package detect

import (
	"errors"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/kernel"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/phpfpm"
)

// Format is one way to read a file, with what builds its parser once the
// file's options (zone, reference time) are known. bulk asks for the
// fastest parser that still gives the correlator all it needs (analyze);
// detection and the daemon use the exact one.
//
// The same list (Builtin, after any formats read from the server's
// configs) is what both `analyze` and the daemon choose from, with Choose.
type Format struct {
	Type  parsers.Type
	Name  string
	Build func(o parsers.Options, bulk bool) parsers.Func
}

// Exact wraps a parser maker that has no bulk variant.
func Exact(t parsers.Type, name string, mk func(parsers.Options) parsers.Func) Format {
	return Format{Type: t, Name: name, Build: func(o parsers.Options, _ bool) parsers.Func { return mk(o) }}
}

// NginxAccess is an nginx access format (its bulk parser triages).
func NginxAccess(name string, f *nginx.Format) Format {
	return Format{Type: parsers.TypeNginxAccess, Name: name, Build: func(o parsers.Options, bulk bool) parsers.Func {
		if bulk {
			return nginx.NewAccessTriage(f, o)
		}
		return nginx.NewAccess(f, o)
	}}
}

// ApacheAccess is an Apache access format.
func ApacheAccess(name string, f *apache.Format) Format {
	return Exact(parsers.TypeApacheAccess, name, func(o parsers.Options) parsers.Func { return apache.NewAccess(f, o) })
}

// Builtin lists the built-in formats, of type typ only when it is set. Of
// formats that read the same lines the richer comes first.
func Builtin(typ parsers.Type) []Format {
	all := []Format{
		NginxAccess("combined", nginx.Combined()),
		NginxAccess("vhost_combined", nginx.VhostCombined()),
		Exact(parsers.TypeNginxAccess, "json", nginx.NewJSONAccess),
		ApacheAccess("combined", apache.Combined()),
		ApacheAccess("vhost_combined", apache.VhostCombined()),
		ApacheAccess("vhost_combined_noport", apache.VhostNoPort()),
		ApacheAccess("common", apache.Common()),
		ApacheAccess("ssl_request", apache.SSLRequest()),
		Exact(parsers.TypeNginxError, "nginx", nginx.NewError),
		Exact(parsers.TypeApacheError, "apache", apache.NewError),
		Exact(parsers.TypePHPFPM, "php-fpm", phpfpm.New),
		Exact(parsers.TypeKernel, "kernel", kernel.New),
	}
	if typ == "" {
		return all
	}
	var out []Format
	for _, f := range all {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

// Candidates builds the detection candidates of formats (zero Options).
// An access candidate reads the sample as the file would be read with it
// (Build): its odd lines with the other formats of its type and behind a
// syslog prefix — but not its server's error lines, or an access format
// would "read" an error log.
func Candidates(formats []Format) []Candidate {
	out := make([]Candidate, len(formats))
	o := parsers.Options{}
	for i, f := range formats {
		p := f.Build(o, false)
		if IsAccess(f.Type) {
			var others []parsers.Func
			for j, g := range formats {
				if j != i && g.Type == f.Type {
					others = append(others, g.Build(o, false))
				}
			}
			primary := p
			p = func(line []byte) (parsers.Event, error) {
				ev, err := primary(line)
				if err == nil {
					return ev, nil
				}
				return fallback(line, ev, err, primary, others)
			}
		}
		out[i] = Candidate{Type: f.Type, Name: f.Name, Parse: p}
		if IsAccess(f.Type) {
			out[i].Own = f.Build(o, false)
		}
	}
	return out
}

// Choose picks the format of a file from its first lines (see Detect).
// ok is false when none qualifies.
func Choose(name string, sample [][]byte, formats []Format) (Format, Result, bool) {
	r := Detect(name, sample, Candidates(formats))
	if r.Index < 0 {
		return Format{}, r, false
	}
	return formats[r.Index], r, true
}

// Build makes the parser for a file read with formats[i]. An access
// format falls back, line by line, to the other formats of its type (a
// vhost line among combined ones, a common line), then to its server's error log (nginx and Apache write
// both to syslog when configured so, and such files mix them: LineType
// tells the type of each event), and reads all of these behind a syslog
// prefix too.
func Build(formats []Format, i int, o parsers.Options, bulk bool) parsers.Func {
	primary, fb := Parts(formats, i, o, bulk)
	if fb == nil {
		return primary
	}
	return func(line []byte) (parsers.Event, error) {
		ev, err := primary(line)
		if err == nil || errors.Is(err, parsers.ErrContinuation) {
			return ev, err
		}
		return fb(line, ev, err)
	}
}

// Fallback reads a line the primary parser did not; it returns ev and err
// (the primary's result) when it cannot either.
type Fallback func(line []byte, ev parsers.Event, err error) (parsers.Event, error)

// Parts is Build split for hot loops, where a wrapper's copy of the Event
// costs: call primary, and fb (nil when there is none) only for a line
// primary returned an error for other than parsers.ErrContinuation.
func Parts(formats []Format, i int, o parsers.Options, bulk bool) (primary parsers.Func, fb Fallback) {
	primary = formats[i].Build(o, bulk)
	t := formats[i].Type
	if !IsAccess(t) {
		return primary, nil
	}
	exact := primary
	if bulk {
		exact = formats[i].Build(o, false)
	}
	var others []parsers.Func
	for j, f := range formats {
		if j != i && f.Type == t {
			others = append(others, f.Build(o, false))
		}
	}
	switch t {
	case parsers.TypeNginxAccess:
		others = append(others, nginx.NewError(o))
	case parsers.TypeApacheAccess:
		others = append(others, apache.NewError(o))
	}
	return primary, func(line []byte, ev parsers.Event, err error) (parsers.Event, error) {
		return fallback(line, ev, err, exact, others)
	}
}

// fallback reads a line primary did not: with others, then behind a
// syslog header with all of them. It returns primary's result when none
// reads it.
func fallback(line []byte, ev parsers.Event, err error, primary parsers.Func, others []parsers.Func) (parsers.Event, error) {
	for _, p := range others {
		if ev2, err2 := p(line); err2 == nil {
			return ev2, nil
		}
	}
	if len(line) == 0 || line[0] == '[' || line[0] == '{' {
		return ev, err
	}
	h, ok := parsers.ParseSyslog(line, parsers.Options{})
	if !ok {
		return ev, err
	}
	if ev2, err2 := primary(h.Msg); err2 == nil {
		return ev2, nil
	}
	for _, p := range others {
		if ev2, err2 := p(h.Msg); err2 == nil {
			return ev2, nil
		}
	}
	return ev, err
}

// LineType is the type of an event read from a file of type t: an error
// line in an access file (see Build) is its server's error type.
func LineType(t parsers.Type, ev *parsers.Event) parsers.Type {
	if ev.Kind == parsers.KindProxy {
		switch t {
		case parsers.TypeNginxAccess:
			return parsers.TypeNginxError
		case parsers.TypeApacheAccess:
			return parsers.TypeApacheError
		}
	}
	return t
}
