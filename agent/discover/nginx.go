package discover

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// Nginx is what nginx's configuration says.
type Nginx struct {
	Binary     string            `json:"binary,omitempty"` // "" when not on PATH
	Conf       string            `json:"conf"`
	Via        string            `json:"via"` // "nginx -T" or "files"
	AccessLogs []NginxAccessLog  `json:"access_logs"`
	ErrorLogs  []NginxErrorLog   `json:"error_logs"`
	Upstreams  []Upstream        `json:"upstreams"`
	Servers    []Server          `json:"servers"`
	Config     *nginxconf.Config `json:"-"`
}

// NginxAccessLog is one access_log to a file.
type NginxAccessLog struct {
	Path   string `json:"path"`
	Format string `json:"format"` // log_format name
	Spec   string `json:"spec"`   // the format's text
	Escape string `json:"escape"` // default | json | none
	Where  string `json:"where"`  // file:line of the access_log
	// Site is the first server_name of the server block it is in ("" at
	// http level); a path several server blocks share has none.
	Site string `json:"site,omitempty"`
	// Compiled is the format ready for nginx.NewAccess; nil when it did not
	// compile (see Host.Problems).
	Compiled *nginx.Format `json:"-"`
}

// NginxErrorLog is one error_log to a file.
type NginxErrorLog struct {
	Path  string `json:"path"`
	Level string `json:"level"`
	Where string `json:"where"`
}

// Upstream is a target a web server proxies to.
type Upstream struct {
	Target string `json:"target"` // "unix:/run/php/php8.2-fpm.sock" or "host:port"
	Where  string `json:"where"`  // the directive that names it
}

// Server is one server block or virtual host.
type Server struct {
	Names   []string `json:"names"`
	Listens []string `json:"listens"`
	Where   string   `json:"where"`
}

const defaultNginxConf = "/etc/nginx/nginx.conf"

func (h *Host) nginx(ctx context.Context) {
	o := h.opts
	if o.NginxConf == "off" {
		return
	}
	conf := o.NginxConf
	if conf == "" {
		conf = defaultNginxConf
	}
	n := &Nginx{Conf: conf}
	bin := o.NginxBinary
	if bin == "" {
		bin = "nginx"
	}
	if p, err := o.System.LookPath(bin); err == nil {
		n.Binary = p
	}
	var cfg *nginxconf.Config
	if n.Binary != "" {
		out, err := o.System.Run(ctx, n.Binary, "-T", "-c", conf)
		if err == nil {
			cfg, err = nginxconf.ParseDump(out)
		}
		if err != nil {
			h.problem("nginx: %s -T failed, reading %s instead: %v", n.Binary, conf, err)
			cfg = nil
		} else {
			n.Via = "nginx -T"
		}
	}
	if cfg == nil {
		if !exists(o.System.FS, conf) && n.Binary == "" {
			return // not installed
		}
		var err error
		if cfg, err = nginxconf.Load(o.System.FS, conf); err != nil {
			h.problem("nginx: read %s: %v", conf, err)
			if errors.Is(err, fs.ErrNotExist) || cfg == nil {
				h.Nginx = n
				return
			}
		}
		n.Via = "files"
	}
	n.Config = cfg
	h.nginxLogs(n, cfg)
	n.Upstreams = append(n.Upstreams, upstreamTargets(cfg)...)
	for _, s := range cfg.Servers() {
		srv := Server{Names: s.Names, Where: where(s.File, s.Line)}
		for _, l := range s.Listens {
			srv.Listens = append(srv.Listens, l.Address)
		}
		if len(srv.Listens) == 0 {
			srv.Listens = []string{"80"}
		}
		n.Servers = append(n.Servers, srv)
	}
	h.Nginx = n
}

// nginxLogs collects file access and error logs with their formats.
func (h *Host) nginxLogs(n *Nginx, cfg *nginxconf.Config) {
	formats := map[string]nginxconf.LogFormat{}
	for _, f := range cfg.LogFormats() {
		if _, dup := formats[f.Name]; !dup { // nginx refuses duplicates; keep the first
			formats[f.Name] = f
		}
	}
	compiled := map[string]*nginx.Format{}
	for _, a := range cfg.AccessLogs() {
		if a.Off || a.NotFile {
			continue
		}
		w := where(a.File, a.Line)
		if strings.Contains(a.Path, "$") {
			h.problem("nginx: access_log %s at %s has variables in its path; list the files in sources.nginx_access", a.Path, w)
			continue
		}
		l := NginxAccessLog{Path: absNginx(a.Path), Format: a.Format, Where: w, Escape: "default", Site: siteName(a.ServerNames)}
		if l.Format == "combined" {
			l.Spec = nginxconf.CombinedFormat
		} else if f, ok := formats[a.Format]; ok {
			l.Spec, l.Escape = f.Format, f.Escape
		} else {
			h.problem("nginx: access_log %s at %s uses log_format %q, which is not defined", a.Path, w, a.Format)
			continue
		}
		key := l.Format
		if c, ok := compiled[key]; ok {
			l.Compiled = c
		} else {
			c, err := nginx.CompileFormat(l.Format, l.Spec, escape(l.Escape))
			if err != nil {
				h.problem("nginx: log_format %q: %v", l.Format, err)
			}
			compiled[key], l.Compiled = c, c
		}
		n.AccessLogs = append(n.AccessLogs, l)
	}
	// A log two server blocks share is no one site's.
	site := map[string]string{}
	for _, l := range n.AccessLogs {
		if prev, ok := site[l.Path]; ok && prev != l.Site {
			site[l.Path] = ""
		} else if !ok {
			site[l.Path] = l.Site
		}
	}
	for i := range n.AccessLogs {
		n.AccessLogs[i].Site = site[n.AccessLogs[i].Path]
	}
	for _, e := range cfg.ErrorLogs() {
		if e.NotFile || e.Path == "stderr" {
			continue
		}
		n.ErrorLogs = append(n.ErrorLogs, NginxErrorLog{Path: absNginx(e.Path), Level: e.Level, Where: where(e.File, e.Line)})
	}
}

// absNginx resolves a relative log path against nginx's prefix; packaged
// builds use /usr/share/nginx on Debian and /usr/share/nginx on RHEL too.
func absNginx(p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join("/usr/share/nginx", p)
}

func escape(s string) nginx.Escape {
	switch s {
	case "json":
		return nginx.EscapeJSON
	case "none":
		return nginx.EscapeNone
	}
	return nginx.EscapeDefault
}

// upstreamTargets resolves *_pass targets to addresses: an upstream block's
// name becomes its servers; variables and names nginx resolves at run time
// are left out.
func upstreamTargets(cfg *nginxconf.Config) []Upstream {
	blocks := map[string][]nginxconf.UpstreamServer{}
	for _, u := range cfg.Upstreams() {
		blocks[u.Name] = u.Servers
	}
	var out []Upstream
	seen := map[string]bool{}
	add := func(target, w string) {
		if !seen[target] {
			seen[target] = true
			out = append(out, Upstream{Target: target, Where: w})
		}
	}
	for _, p := range cfg.Passes() {
		w := p.Directive + " at " + where(p.File, p.Line)
		t := p.Target
		if i := strings.Index(t, "://"); i >= 0 {
			t = t[i+3:]
		}
		if strings.Contains(t, "$") {
			continue
		}
		if !strings.HasPrefix(t, "unix:") {
			if i := strings.IndexByte(t, '/'); i >= 0 {
				t = t[:i]
			}
		}
		if servers, ok := blocks[t]; ok {
			for _, s := range servers {
				add(s.Address, "upstream "+t+" at "+where(s.File, s.Line))
			}
			continue
		}
		if strings.HasPrefix(t, "unix:") || strings.Contains(t, ":") {
			add(t, w)
			continue
		}
		// A bare host: port 80 for proxy_pass http://host.
		if strings.HasPrefix(p.Target, "https://") {
			add(t+":443", w)
		} else if strings.HasPrefix(p.Target, "http://") {
			add(t+":80", w)
		}
	}
	return out
}

func where(file string, line int) string {
	if file == "" {
		return ""
	}
	return file + ":" + itoa(line)
}

// siteName is a server block's first real server_name ("_" and "" are
// catch-alls).
func siteName(names []string) string {
	for _, n := range names {
		if n != "_" && n != "" && n != `""` {
			return n
		}
	}
	return ""
}
