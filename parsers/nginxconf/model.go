package nginxconf

import (
	"strconv"
	"strings"
)

// Where locates a setting: its directive's file and line, the top-level
// block it sits in ("http", "stream", "mail" or "" for main), the innermost
// block kind ("http", "server", "location", "if", "upstream"...) and the
// server_name list of the enclosing server block, if any.
type Where struct {
	File        string
	Line        int
	Module      string
	Context     string
	ServerNames []string
}

func where(d *Directive, parents []*Directive) Where {
	w := Where{File: d.File, Line: d.Line}
	if len(parents) > 0 {
		w.Module = parents[0].Name
		w.Context = parents[len(parents)-1].Name
	}
	for i := len(parents) - 1; i >= 0; i-- {
		if parents[i].Name == "server" {
			w.ServerNames = serverNames(parents[i])
			break
		}
	}
	return w
}

func serverNames(server *Directive) []string {
	var names []string
	for _, d := range server.Block {
		if d.Name == "server_name" {
			names = append(names, d.Args...)
		}
	}
	return names
}

// LogFormat is one log_format directive.
type LogFormat struct {
	Name   string
	Escape string // "default", "json" or "none"
	Format string // the quoted pieces concatenated, as nginx joins them
	Where
}

// CombinedFormat is nginx's built-in "combined" format, which no
// configuration defines (and none may redefine).
const CombinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// LogFormats returns every log_format of the http (and stream) modules in
// document order. The built-in "combined" is not listed; see CombinedFormat.
func (c *Config) LogFormats() []LogFormat {
	var out []LogFormat
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.Name != "log_format" || d.HasBlock || len(d.Args) < 1 {
			return nil
		}
		f := LogFormat{Name: d.Args[0], Escape: "default", Where: where(d, parents)}
		rest := d.Args[1:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "escape=") {
			f.Escape = strings.TrimPrefix(rest[0], "escape=")
			rest = rest[1:]
		}
		f.Format = strings.Join(rest, "")
		out = append(out, f)
		return nil
	})
	return out
}

// AccessLog is one access_log directive.
type AccessLog struct {
	Path    string   // file path, or the whole "syslog:..." / "memory:..." target
	Format  string   // format name; "combined" when not given
	Params  []string // buffer=, gzip, flush=, if=
	Off     bool     // "access_log off"
	NotFile bool     // syslog: or memory: target
	Where
}

// AccessLogs returns every access_log directive in document order. A
// configuration without one logs to nginx's compiled-in default
// (/var/log/nginx/access.log on Debian), which is not listed.
func (c *Config) AccessLogs() []AccessLog {
	var out []AccessLog
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.Name != "access_log" || d.HasBlock || len(d.Args) < 1 {
			return nil
		}
		a := AccessLog{Path: d.Args[0], Format: "combined", Where: where(d, parents)}
		switch {
		case a.Path == "off":
			a.Off = true
			a.Format = ""
		case strings.HasPrefix(a.Path, "syslog:"), strings.HasPrefix(a.Path, "memory:"):
			a.NotFile = true
		}
		if len(d.Args) > 1 {
			a.Format = d.Args[1]
			a.Params = d.Args[2:]
		}
		out = append(out, a)
		return nil
	})
	return out
}

// ErrorLog is one error_log directive.
type ErrorLog struct {
	Path    string // file path or "syslog:...", "memory:...", "stderr"
	Level   string // "error" when not given
	NotFile bool
	Where
}

// ErrorLogs returns every error_log directive in document order.
func (c *Config) ErrorLogs() []ErrorLog {
	var out []ErrorLog
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.Name != "error_log" || d.HasBlock || len(d.Args) < 1 {
			return nil
		}
		e := ErrorLog{Path: d.Args[0], Level: "error", Where: where(d, parents)}
		e.NotFile = strings.HasPrefix(e.Path, "syslog:") || strings.HasPrefix(e.Path, "memory:") || e.Path == "stderr"
		if len(d.Args) > 1 {
			e.Level = d.Args[1]
		}
		out = append(out, e)
		return nil
	})
	return out
}

// Listen is one listen directive of a server.
type Listen struct {
	Address       string // "127.0.0.1:8080", "[::]:443", "80", "unix:/run/x.sock"
	Port          int    // 0 for unix sockets
	SSL           bool
	HTTP2         bool
	DefaultServer bool
	Params        []string // every parameter after the address
	File          string
	Line          int
}

// Server is one server block.
type Server struct {
	Names              []string
	Listens            []Listen // empty: nginx listens on *:80
	SSLCertificates    []string
	SSLCertificateKeys []string
	Where
}

// Servers returns the server blocks of the http and stream modules
// (servers inside upstream blocks are entries, see Upstreams).
func (c *Config) Servers() []Server {
	var out []Server
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.Name != "server" || !d.HasBlock {
			return nil
		}
		s := Server{Names: serverNames(d), Where: where(d, parents)}
		for _, x := range d.Block {
			switch x.Name {
			case "listen":
				if len(x.Args) > 0 {
					s.Listens = append(s.Listens, parseListen(x))
				}
			case "ssl_certificate":
				s.SSLCertificates = append(s.SSLCertificates, x.Args...)
			case "ssl_certificate_key":
				s.SSLCertificateKeys = append(s.SSLCertificateKeys, x.Args...)
			}
		}
		out = append(out, s)
		return nil
	})
	return out
}

func parseListen(d *Directive) Listen {
	l := Listen{Address: d.Args[0], Params: d.Args[1:], File: d.File, Line: d.Line}
	for _, p := range l.Params {
		switch p {
		case "ssl":
			l.SSL = true
		case "http2":
			l.HTTP2 = true
		case "default_server", "default":
			l.DefaultServer = true
		}
	}
	a := l.Address
	switch {
	case strings.HasPrefix(a, "unix:"):
	case isDigits(a):
		l.Port, _ = strconv.Atoi(a)
	default:
		if i := strings.LastIndexByte(a, ':'); i >= 0 && i > strings.LastIndexByte(a, ']') {
			l.Port, _ = strconv.Atoi(a[i+1:])
		} else {
			l.Port = 80
		}
	}
	return l
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Setting is a directive's value where it is set.
type Setting struct {
	Name  string
	Value string // the arguments joined by a space
	Where
}

// RealIP is the realip module's configuration, collected from every level.
type RealIP struct {
	From      []Setting // set_real_ip_from, one per directive (a CIDR, address or "unix:")
	Header    []Setting // real_ip_header
	Recursive []Setting // real_ip_recursive
}

// RealIP returns every set_real_ip_from, real_ip_header and
// real_ip_recursive directive, wherever it is (http, server, location).
func (c *Config) RealIP() RealIP {
	var r RealIP
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.HasBlock {
			return nil
		}
		s := Setting{Name: d.Name, Value: strings.Join(d.Args, " "), Where: where(d, parents)}
		switch d.Name {
		case "set_real_ip_from":
			r.From = append(r.From, s)
		case "real_ip_header":
			r.Header = append(r.Header, s)
		case "real_ip_recursive":
			r.Recursive = append(r.Recursive, s)
		}
		return nil
	})
	return r
}

// Upstream is an upstream block.
type Upstream struct {
	Name    string
	Servers []UpstreamServer
	Where
}

// UpstreamServer is a "server ADDRESS [params];" entry of an upstream block.
type UpstreamServer struct {
	Address string
	Params  []string // weight=, max_fails=, fail_timeout=, backup, down...
	File    string
	Line    int
}

// Upstreams returns the upstream blocks.
func (c *Config) Upstreams() []Upstream {
	var out []Upstream
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.Name != "upstream" || !d.HasBlock || len(d.Args) < 1 {
			return nil
		}
		u := Upstream{Name: d.Args[0], Where: where(d, parents)}
		for _, x := range d.Block {
			if x.Name == "server" && !x.HasBlock && len(x.Args) > 0 {
				u.Servers = append(u.Servers, UpstreamServer{Address: x.Args[0], Params: x.Args[1:], File: x.File, Line: x.Line})
			}
		}
		out = append(out, u)
		return nil
	})
	return out
}

// passDirectives name where a request is handed to an upstream.
var passDirectives = map[string]bool{
	"fastcgi_pass": true, "proxy_pass": true, "uwsgi_pass": true, "scgi_pass": true, "grpc_pass": true,
}

// Pass is one fastcgi_pass / proxy_pass / uwsgi_pass / scgi_pass / grpc_pass.
type Pass struct {
	Directive string
	Target    string // "unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000", "http://backend", "php"
	Where
}

// Passes returns every *_pass directive in document order.
func (c *Config) Passes() []Pass {
	var out []Pass
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if !passDirectives[d.Name] || d.HasBlock || len(d.Args) < 1 {
			return nil
		}
		out = append(out, Pass{Directive: d.Name, Target: d.Args[0], Where: where(d, parents)})
		return nil
	})
	return out
}
