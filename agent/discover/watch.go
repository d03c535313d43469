package discover

import (
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/nginx"
)

// Watch is one source `origin-agent run` reads.
type Watch struct {
	Kind string       `json:"kind"` // "file", "kmsg" or "journal"
	Path string       `json:"path"` // file path (may be a glob from the config), /dev/kmsg, or the journalctl binary
	Type parsers.Type `json:"type"`
	// Format and Spec name the access log format (nginx log_format, Apache
	// LogFormat nickname) when known; "" lets the reader detect it.
	Format   string        `json:"format,omitempty"`
	Spec     string        `json:"spec,omitempty"`
	Escape   string        `json:"escape,omitempty"` // nginx escape=
	Compiled *nginx.Format `json:"-"`                // nginx access format, compiled
	From     string        `json:"from"`             // why: the directive and its file:line, or the config key
	// Site is the server_name / ServerName of the one server block or vhost
	// that writes an access log, "" when several share it or none is named.
	Site string `json:"site,omitempty"`
}

// Watch returns the sources to read, each path once (the first reason
// wins): the lists of [sources] where set, else what discovery found, then
// the kernel source.
func (h *Host) Watch() []Watch {
	var out []Watch
	seen := map[string]bool{}
	add := func(w Watch) {
		if w.Path == "" || seen[w.Path] {
			return
		}
		seen[w.Path] = true
		if w.Kind == "" {
			w.Kind = "file"
		}
		out = append(out, w)
	}
	o := h.opts

	// nginx access logs: a configured path takes its format from the
	// access_log that writes it, if discovery found one.
	var nginxAccess []Watch
	if h.Nginx != nil {
		for _, a := range h.Nginx.AccessLogs {
			nginxAccess = append(nginxAccess, Watch{Path: a.Path, Type: parsers.TypeNginxAccess, Format: a.Format,
				Spec: a.Spec, Escape: a.Escape, Compiled: a.Compiled, From: "nginx access_log at " + a.Where, Site: a.Site})
		}
	}
	if len(o.NginxAccess) > 0 {
		byPath := map[string]Watch{}
		for _, w := range nginxAccess {
			byPath[w.Path] = w
		}
		nginxAccess = nil
		for _, p := range o.NginxAccess {
			w, ok := byPath[p]
			if !ok {
				w = Watch{Path: p, Type: parsers.TypeNginxAccess}
			}
			w.From = "sources.nginx_access"
			nginxAccess = append(nginxAccess, w)
		}
	}
	for _, w := range nginxAccess {
		add(w)
	}

	list := func(configured []string, key string, typ parsers.Type, found func() []Watch) {
		if len(configured) > 0 {
			for _, p := range configured {
				add(Watch{Path: p, Type: typ, From: key})
			}
			return
		}
		for _, w := range found() {
			add(w)
		}
	}
	list(o.NginxError, "sources.nginx_error", parsers.TypeNginxError, func() (ws []Watch) {
		if h.Nginx != nil {
			for _, e := range h.Nginx.ErrorLogs {
				ws = append(ws, Watch{Path: e.Path, Type: parsers.TypeNginxError, From: "nginx error_log at " + e.Where})
			}
		}
		return ws
	})
	list(o.ApacheAccess, "sources.apache_access", parsers.TypeApacheAccess, func() (ws []Watch) {
		if h.Apache != nil {
			for _, a := range h.Apache.AccessLogs {
				ws = append(ws, Watch{Path: a.Path, Type: parsers.TypeApacheAccess, Format: a.Format, Spec: a.Spec, From: "apache CustomLog at " + a.Where, Site: a.Site})
			}
		}
		return ws
	})
	list(o.ApacheError, "sources.apache_error", parsers.TypeApacheError, func() (ws []Watch) {
		if h.Apache != nil {
			for _, e := range h.Apache.ErrorLogs {
				ws = append(ws, Watch{Path: e, Type: parsers.TypeApacheError, From: "apache ErrorLog"})
			}
		}
		return ws
	})
	list(o.PHPFPM, "sources.php_fpm", parsers.TypePHPFPM, func() (ws []Watch) {
		if h.PHPFPM != nil {
			for _, m := range h.PHPFPM.Masters {
				if m.ErrorLog != "syslog" {
					ws = append(ws, Watch{Path: m.ErrorLog, Type: parsers.TypePHPFPM, From: "php-fpm error_log of " + m.Conf})
				}
			}
		}
		return ws
	})
	switch h.Kernel.Source {
	case "kmsg", "journal":
		add(Watch{Kind: h.Kernel.Source, Path: h.Kernel.Path, Type: parsers.TypeKernel, From: "kernel: " + h.Kernel.Reason})
	case "file":
		add(Watch{Path: h.Kernel.Path, Type: parsers.TypeKernel, From: "kernel: " + h.Kernel.Reason})
	}
	return out
}
