package discover

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/origin-agent/origin-agent/parsers/apacheconf"
)

// Apache is what Apache httpd's configuration says.
type Apache struct {
	Ctl        string            `json:"ctl,omitempty"` // apache2ctl or httpd, "" when not on PATH
	Conf       string            `json:"conf"`
	ServerRoot string            `json:"server_root"`
	AccessLogs []ApacheAccessLog `json:"access_logs"`
	ErrorLogs  []string          `json:"error_logs"`
	Upstreams  []Upstream        `json:"upstreams"`
	Servers    []Server          `json:"servers"`
	// CtlErrorLog is "Main ErrorLog" of `apache2ctl -S`, "" without it.
	CtlErrorLog string             `json:"ctl_error_log,omitempty"`
	Config      *apacheconf.Config `json:"-"`
}

// ApacheAccessLog is one CustomLog to a file.
type ApacheAccessLog struct {
	Path   string `json:"path"`
	Format string `json:"format"` // nickname, "" for an inline format
	Spec   string `json:"spec"`
	Where  string `json:"where"`
	Site   string `json:"site,omitempty"` // the vhost's ServerName
}

// apacheLayouts are the packaged layouts: main file, server root, control
// binary.
var apacheLayouts = []struct{ conf, root, ctl string }{
	{"/etc/apache2/apache2.conf", "/etc/apache2", "apache2ctl"},
	{"/etc/httpd/conf/httpd.conf", "/etc/httpd", "httpd"},
}

func (h *Host) apache(ctx context.Context) {
	o := h.opts
	if o.ApacheConf == "off" {
		return
	}
	a := &Apache{}
	for _, l := range apacheLayouts {
		if (o.ApacheConf == "" && exists(o.System.FS, l.conf)) || o.ApacheConf == l.conf {
			a.Conf, a.ServerRoot, a.Ctl = l.conf, l.root, l.ctl
			break
		}
	}
	if a.Conf == "" {
		if o.ApacheConf == "" {
			return // not installed
		}
		a.Conf = o.ApacheConf
	}
	if o.ApacheCtl != "" {
		a.Ctl = o.ApacheCtl
	}
	ctl := a.Ctl
	a.Ctl = ""
	if ctl != "" {
		if p, err := o.System.LookPath(ctl); err == nil {
			a.Ctl = p
			out, err := o.System.Run(ctx, p, "-S")
			if err != nil {
				h.problem("apache: %s -S failed, reading %s only: %v", p, a.Conf, err)
			} else {
				root, errLog, servers := parseCtlS(out)
				if root != "" {
					a.ServerRoot = root
				}
				a.CtlErrorLog = errLog
				a.Servers = servers
			}
		}
	}
	cfg, err := apacheconf.LoadOptions(o.System.FS, rel(a.Conf), apacheconf.Options{ServerRoot: a.ServerRoot})
	if err != nil {
		h.problem("apache: read %s: %v", a.Conf, err)
	}
	if cfg == nil {
		h.Apache = a
		return
	}
	a.Config = cfg
	for _, c := range cfg.AccessLogs() {
		if !c.Readable {
			continue
		}
		a.AccessLogs = append(a.AccessLogs, ApacheAccessLog{Path: c.Path, Format: c.Nickname, Spec: c.Format, Where: where(c.File, c.Line), Site: c.VHost})
	}
	for _, e := range cfg.ErrorLogs() {
		if e.Readable && !contains(a.ErrorLogs, e.Path) {
			a.ErrorLogs = append(a.ErrorLogs, e.Path)
		}
	}
	if a.CtlErrorLog != "" && !contains(a.ErrorLogs, a.CtlErrorLog) && strings.HasPrefix(a.CtlErrorLog, "/") {
		a.ErrorLogs = append(a.ErrorLogs, a.CtlErrorLog)
	}
	seen := map[string]bool{}
	for _, s := range append([]*apacheconf.Server{cfg.Main}, cfg.VHosts...) {
		if s == nil {
			continue
		}
		for _, p := range s.Proxies {
			t := proxyTarget(p)
			if t != "" && !seen[t] {
				seen[t] = true
				a.Upstreams = append(a.Upstreams, Upstream{Target: t, Where: p.Directive + " at " + where(p.File, p.Line)})
			}
		}
		if len(a.Servers) == 0 && s.VHost { // no -S output: the config's vhosts
			a.Servers = append(a.Servers, Server{Names: append([]string{s.Name()}, s.ServerAliases...), Listens: s.Addrs, Where: where(s.File, s.Line)})
		}
	}
	h.Apache = a
}

// proxyTarget turns a ProxyPass target into "unix:/path" or "host:port".
func proxyTarget(p apacheconf.Proxy) string {
	if p.Socket != "" {
		return "unix:" + p.Socket
	}
	t := p.Target
	i := strings.Index(t, "://")
	if i < 0 || strings.Contains(t, "$") {
		return ""
	}
	scheme, t := t[:i], t[i+3:]
	if j := strings.IndexByte(t, '/'); j >= 0 {
		t = t[:j]
	}
	if t == "" {
		return ""
	}
	if strings.LastIndexByte(t, ':') <= strings.LastIndexByte(t, ']') {
		switch scheme {
		case "https", "wss":
			t += ":443"
		case "http", "ws":
			t += ":80"
		default:
			return ""
		}
	}
	return t
}

// parseCtlS reads `apache2ctl -S`: the ServerRoot, the main ErrorLog and
// the virtual hosts, e.g.
//
//	*:80                   example.com (/etc/apache2/sites-enabled/000-default.conf:1)
//	*:443                  is a NameVirtualHost
//	         default server www.example.com (/etc/apache2/sites-enabled/ssl.conf:2)
//	         port 443 namevhost www.example.com (/etc/apache2/sites-enabled/ssl.conf:2)
//	ServerRoot: "/etc/apache2"
//	Main ErrorLog: "/var/log/apache2/error.log"
func parseCtlS(out []byte) (root, errorLog string, servers []Server) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	addr := ""
	seen := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(t, "ServerRoot: "); ok {
			root = unquote(v)
			continue
		}
		if v, ok := strings.CutPrefix(t, "Main ErrorLog: "); ok {
			errorLog = unquote(v)
			continue
		}
		open, close := strings.LastIndexByte(t, '('), strings.LastIndexByte(t, ')')
		if open < 0 || close < open || !strings.HasSuffix(t, ")") {
			if f := strings.Fields(t); len(f) >= 2 && line[0] != ' ' && strings.Contains(f[0], ":") {
				addr = f[0] // "*:443 is a NameVirtualHost"
			}
			continue
		}
		w := t[open+1 : close]
		f := strings.Fields(t[:open])
		if len(f) == 0 {
			continue
		}
		name := f[len(f)-1]
		a := addr
		if line[0] != ' ' {
			a = f[0]
		} else if len(f) >= 4 && f[0] == "port" {
			if _, err := strconv.Atoi(f[1]); err == nil {
				a = "*:" + f[1]
			}
		}
		if key := a + " " + name + " " + w; !seen[key] && (line[0] != ' ' || f[0] != "default") {
			seen[key] = true
			servers = append(servers, Server{Names: []string{name}, Listens: []string{a}, Where: w})
		}
	}
	return root, errorLog, servers
}

func unquote(s string) string {
	return strings.Trim(strings.TrimSpace(s), `"`)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
