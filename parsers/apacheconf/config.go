package apacheconf

import (
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// clfFormat is mod_log_config's built-in default (nickname "CLF").
const clfFormat = `%h %l %u %t "%r" %>s %b`

// Config is what Load extracts.
type Config struct {
	ServerRoot string
	Files      []string     // every file read, absolute, in reading order
	Directives []*Directive // the whole tree; Include directives carry the included files' directives as Block
	Main       *Server      // the main server (directives outside <VirtualHost>)
	VHosts     []*Server
	LogFormats []LogFormat // every LogFormat, in order
	Listen     []Listen
	// mod_remoteip (server-wide; per-vhost values are in Server).
	RemoteIPHeader            string
	RemoteIPTrustedProxies    []string // RemoteIPTrustedProxy arguments (and RemoteIPInternalProxy)
	RemoteIPTrustedProxyLists []string // RemoteIPTrustedProxyList / RemoteIPInternalProxyList files (absolute)
	MaxRequestWorkers         int      // 0 when not set (MaxClients counts too)
	Warnings                  []string // undefined ${VAR}s and the like
}

// Server is the main server or one <VirtualHost>. Zero values mean "not
// set here" (a vhost inherits the main server's).
type Server struct {
	VHost         bool
	Addrs         []string // <VirtualHost> arguments, e.g. "*:443"
	Ports         []int    // from Addrs; an address without a port takes every Listen port
	ServerName    string
	ServerAliases []string
	ErrorLog      *LogFile
	CustomLogs    []CustomLog
	Timeout       time.Duration
	ProxyTimeout  time.Duration
	Proxies       []Proxy
	SSLCertFile   string // SSLCertificateFile (absolute)
	SSLKeyFile    string // SSLCertificateKeyFile (absolute)
	// RemoteIPHeader as set inside this vhost.
	RemoteIPHeader string
	File           string
	Line           int
	formats        map[string]string // nicknames defined here
	defaultFormat  string            // LogFormat with no nickname
}

// Name returns ServerName, or the first address for a nameless vhost.
func (s *Server) Name() string {
	if s.ServerName != "" || len(s.Addrs) == 0 {
		return s.ServerName
	}
	return s.Addrs[0]
}

// LogFile is where a log goes.
type LogFile struct {
	Path string // absolute path; for piped logs the command; "syslog[:facility]" for syslog
	// Piped logs ("|rotatelogs …") and syslog are not files the agent can
	// read: Readable is false for them.
	Piped    bool
	Syslog   bool
	Readable bool
}

// CustomLog is one CustomLog / TransferLog.
type CustomLog struct {
	LogFile
	Format   string // the resolved format string
	Nickname string // the nickname used, "" for an inline format
	Env      string // "env=…" condition, without "env="
	VHost    string // Server.Name() of the vhost, "" for the main server
	File     string
	Line     int
}

// LogFormat is one LogFormat definition.
type LogFormat struct {
	Nickname string // "" for the default format
	Format   string
	VHost    string // where it was defined, "" for the main server
	File     string
	Line     int
}

// Listen is one Listen directive.
type Listen struct {
	Addr  string // "" for all addresses
	Port  int
	Proto string // "https" etc., "" if not given
}

// Proxy is an upstream target from ProxyPass, ProxyPassMatch or
// SetHandler "proxy:…".
type Proxy struct {
	Directive string // ProxyPass, ProxyPassMatch, SetHandler
	Match     string // URL path or regex (the enclosing <Location>/<FilesMatch> when given there)
	Target    string // "fcgi://127.0.0.1:9000/var/www/$1", "unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
	Socket    string // the unix socket path, if any
	Timeout   time.Duration
	File      string
	Line      int
}

// Load reads the configuration whose main file is root (a path inside
// fsys, e.g. "etc/apache2/apache2.conf" in os.DirFS("/")) with default
// Options.
func Load(fsys fs.FS, root string) (*Config, error) {
	return LoadOptions(fsys, root, Options{})
}

// LoadOptions is Load with Options.
func LoadOptions(fsys fs.FS, root string, o Options) (*Config, error) {
	r := &reader{fsys: fsys, serverRoot: o.ServerRoot, vars: map[string]string{}, loaded: map[string]bool{}, env: o.Env}
	rootAbs := "/" + strings.TrimPrefix(path.Clean(root), "/")
	if r.serverRoot == "" {
		r.serverRoot = path.Dir(rootAbs)
	}
	ds, err := r.readFile(rootAbs, 0)
	if err != nil {
		return nil, err
	}
	c := &Config{Directives: ds, Files: r.files, Warnings: r.warnings, ServerRoot: r.serverRoot,
		Main: &Server{formats: map[string]string{}}}
	w := walker{c: c, r: r}
	if err := w.walk(ds, c.Main, ""); err != nil {
		return nil, err
	}
	w.resolve()
	return c, nil
}

type walker struct {
	c *Config
	r *reader
}

func (w *walker) walk(ds []*Directive, s *Server, match string) error {
	for _, d := range ds {
		if d.Section {
			if d.Inactive {
				continue
			}
			switch strings.ToLower(d.Name) {
			case "virtualhost":
				if s.VHost {
					return errf(d.File, d.Line, "<VirtualHost> cannot occur within <VirtualHost> section")
				}
				v := &Server{VHost: true, Addrs: d.Args, File: d.File, Line: d.Line, formats: map[string]string{}}
				w.c.VHosts = append(w.c.VHosts, v)
				if err := w.walk(d.Block, v, ""); err != nil {
					return err
				}
			case "location", "locationmatch", "files", "filesmatch", "directory", "directorymatch":
				m := ""
				if len(d.Args) > 0 {
					m = d.Args[len(d.Args)-1]
				}
				if err := w.walk(d.Block, s, m); err != nil {
					return err
				}
			default:
				if err := w.walk(d.Block, s, match); err != nil {
					return err
				}
			}
			continue
		}
		if err := w.directive(d, s, match); err != nil {
			return err
		}
		if d.Block != nil { // an Include's contents
			if err := w.walk(d.Block, s, match); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *walker) directive(d *Directive, s *Server, match string) error {
	a := d.Args
	need := func(n int) error {
		if len(a) < n {
			return errf(d.File, d.Line, "%s needs %d argument(s)", d.Name, n)
		}
		return nil
	}
	vhostName := ""
	if s.VHost {
		vhostName = s.Name()
	}
	switch strings.ToLower(d.Name) {
	case "logformat":
		if err := need(1); err != nil {
			return err
		}
		lf := LogFormat{Format: a[0], VHost: vhostName, File: d.File, Line: d.Line}
		if len(a) > 1 {
			lf.Nickname = a[1]
			s.formats[a[1]] = a[0]
		} else {
			s.defaultFormat = a[0]
		}
		w.c.LogFormats = append(w.c.LogFormats, lf)
	case "customlog", "transferlog":
		if err := need(1); err != nil {
			return err
		}
		cl := CustomLog{LogFile: w.logFile(a[0]), File: d.File, Line: d.Line}
		if strings.EqualFold(d.Name, "customlog") {
			if err := need(2); err != nil {
				return err
			}
			cl.Nickname = a[1] // resolved later
			if len(a) > 2 {
				cl.Env = strings.TrimPrefix(a[2], "env=")
			}
		}
		s.CustomLogs = append(s.CustomLogs, cl)
	case "errorlog":
		if err := need(1); err != nil {
			return err
		}
		lf := w.logFile(a[0])
		if strings.HasPrefix(a[0], "syslog") {
			lf = LogFile{Path: a[0], Syslog: true}
		}
		s.ErrorLog = &lf
	case "servername":
		if err := need(1); err != nil {
			return err
		}
		s.ServerName = a[0]
	case "serveralias":
		s.ServerAliases = append(s.ServerAliases, a...)
	case "listen":
		if err := need(1); err != nil {
			return err
		}
		l, err := parseListen(a)
		if err != nil {
			return errf(d.File, d.Line, "%v", err)
		}
		w.c.Listen = append(w.c.Listen, l)
	case "timeout", "proxytimeout":
		if err := need(1); err != nil {
			return err
		}
		t, err := parseTimeout(a[0])
		if err != nil {
			return errf(d.File, d.Line, "%s: %v", d.Name, err)
		}
		if strings.EqualFold(d.Name, "timeout") {
			s.Timeout = t
		} else {
			s.ProxyTimeout = t
		}
	case "sslcertificatefile":
		if err := need(1); err != nil {
			return err
		}
		s.SSLCertFile = w.r.abs(a[0])
	case "sslcertificatekeyfile":
		if err := need(1); err != nil {
			return err
		}
		s.SSLKeyFile = w.r.abs(a[0])
	case "proxypass", "proxypassmatch":
		p := Proxy{Directive: d.Name, File: d.File, Line: d.Line}
		rest := a
		if match != "" && len(a) >= 1 && !strings.HasPrefix(a[0], "/") {
			p.Match = match // inside <Location>: ProxyPass URL [params]
		} else if len(a) >= 2 {
			p.Match, rest = a[0], a[1:]
		} else {
			return errf(d.File, d.Line, "%s needs a path and a URL", d.Name)
		}
		if rest[0] == "!" {
			return nil // exclusion, not a target
		}
		p.Target = rest[0]
		p.Socket = socketOf(p.Target)
		for _, kv := range rest[1:] {
			if v, ok := strings.CutPrefix(strings.ToLower(kv), "timeout="); ok {
				if t, err := parseTimeout(v); err == nil {
					p.Timeout = t
				}
			}
		}
		s.Proxies = append(s.Proxies, p)
	case "sethandler":
		if len(a) == 1 && strings.HasPrefix(strings.ToLower(a[0]), "proxy:") {
			t := a[0][len("proxy:"):]
			s.Proxies = append(s.Proxies, Proxy{Directive: d.Name, Match: match, Target: t, Socket: socketOf(t), File: d.File, Line: d.Line})
		}
	case "remoteipheader":
		if err := need(1); err != nil {
			return err
		}
		if s.VHost {
			s.RemoteIPHeader = a[0]
		} else {
			w.c.RemoteIPHeader = a[0]
		}
	case "remoteiptrustedproxy", "remoteipinternalproxy":
		w.c.RemoteIPTrustedProxies = append(w.c.RemoteIPTrustedProxies, a...)
	case "remoteiptrustedproxylist", "remoteipinternalproxylist":
		for _, f := range a {
			w.c.RemoteIPTrustedProxyLists = append(w.c.RemoteIPTrustedProxyLists, w.r.abs(f))
		}
	case "maxrequestworkers", "maxclients":
		if err := need(1); err != nil {
			return err
		}
		n, err := strconv.Atoi(a[0])
		if err != nil {
			return errf(d.File, d.Line, "%s: %q is not a number", d.Name, a[0])
		}
		w.c.MaxRequestWorkers = n
	}
	return nil
}

// logFile classifies a CustomLog/ErrorLog target.
func (w *walker) logFile(p string) LogFile {
	if strings.HasPrefix(p, "|") {
		return LogFile{Path: strings.TrimLeft(strings.TrimPrefix(p, "|"), "|$"), Piped: true}
	}
	return LogFile{Path: w.r.abs(p), Readable: true}
}

// resolve fills ports and the CustomLogs' formats once every LogFormat is
// known (Apache resolves nicknames after reading the whole config).
func (w *walker) resolve() {
	main := w.c.Main
	format := func(s *Server, cl *CustomLog) {
		if cl.Nickname == "" { // TransferLog
			cl.Format = clfFormat
			for _, d := range []string{s.defaultFormat, main.defaultFormat} {
				if d != "" {
					cl.Format = d
					break
				}
			}
			if f, ok := lookupFormat(s, main, cl.Format); ok {
				cl.Format = f
			}
			return
		}
		if f, ok := lookupFormat(s, main, cl.Nickname); ok {
			cl.Format = f
			return
		}
		cl.Format, cl.Nickname = cl.Nickname, ""
	}
	for i := range main.CustomLogs {
		format(main, &main.CustomLogs[i])
	}
	var listenPorts []int
	for _, l := range w.c.Listen {
		listenPorts = appendUnique(listenPorts, l.Port)
	}
	main.Ports = listenPorts
	for _, v := range w.c.VHosts {
		for i := range v.CustomLogs {
			v.CustomLogs[i].VHost = v.Name()
			format(v, &v.CustomLogs[i])
		}
		for _, a := range v.Addrs {
			if k := strings.LastIndexByte(a, ':'); k >= 0 && !strings.HasSuffix(a, "]") {
				if p, err := strconv.Atoi(a[k+1:]); err == nil {
					v.Ports = appendUnique(v.Ports, p)
					continue
				}
				if a[k+1:] == "*" {
					for _, p := range listenPorts {
						v.Ports = appendUnique(v.Ports, p)
					}
					continue
				}
			}
			for _, p := range listenPorts {
				v.Ports = appendUnique(v.Ports, p)
			}
		}
	}
}

func lookupFormat(s, main *Server, nick string) (string, bool) {
	if f, ok := s.formats[nick]; ok {
		return f, true
	}
	if f, ok := main.formats[nick]; ok {
		return f, true
	}
	if nick == "CLF" {
		return clfFormat, true
	}
	return "", false
}

func appendUnique(xs []int, x int) []int {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// AccessLogs returns every CustomLog in effect: the main server's and each
// vhost's. (A vhost without CustomLog writes to the main server's.)
func (c *Config) AccessLogs() []CustomLog {
	out := append([]CustomLog(nil), c.Main.CustomLogs...)
	for _, v := range c.VHosts {
		out = append(out, v.CustomLogs...)
	}
	return out
}

// ErrorLogs returns every ErrorLog in effect, main server first.
func (c *Config) ErrorLogs() []LogFile {
	var out []LogFile
	if c.Main.ErrorLog != nil {
		out = append(out, *c.Main.ErrorLog)
	}
	for _, v := range c.VHosts {
		if v.ErrorLog != nil {
			out = append(out, *v.ErrorLog)
		}
	}
	return out
}

// socketOf returns the path of "unix:/path|fcgi://…", or "".
func socketOf(target string) string {
	rest, ok := strings.CutPrefix(target, "unix:")
	if !ok {
		return ""
	}
	if k := strings.IndexByte(rest, '|'); k >= 0 {
		rest = rest[:k]
	}
	return rest
}

func parseListen(a []string) (Listen, error) {
	l := Listen{}
	if len(a) > 1 {
		l.Proto = a[1]
	}
	addr, port := "", a[0]
	if k := strings.LastIndexByte(a[0], ':'); k >= 0 && !strings.HasSuffix(a[0], "]") {
		addr, port = a[0][:k], a[0][k+1:]
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return Listen{}, fmt.Errorf("listen: bad port in %q", a[0])
	}
	l.Addr, l.Port = strings.Trim(addr, "[]"), p
	return l, nil
}

// parseTimeout parses Apache's time arguments: seconds, or a number with
// ms, s, mi (minutes) or h.
func parseTimeout(v string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"mi", time.Minute}, {"s", time.Second}, {"h", time.Hour}}
	unit := time.Second
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, unit = n, u.d
			break
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || time.Duration(n) > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is not a time", v)
	}
	return time.Duration(n) * unit, nil
}
