package analyze

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// loadServerFormats reads the access-log formats of the nginx and apache
// configs named on the command line: every log_format / LogFormat, and
// which access_log / CustomLog path is written with which. A config that
// cannot be read, or a format that does not compile, is a usage error
// naming the file and line.
func loadServerFormats(o Options) (*serverFormats, error) {
	sf := &serverFormats{nginxPaths: map[string]string{}, apachePaths: map[string]string{}, sites: map[string]string{}}
	if o.NginxConf != "" {
		if err := sf.loadNginx(o.NginxConf); err != nil {
			return nil, fmt.Errorf("%w: --nginx-conf: %v", ErrUsage, err)
		}
	}
	if o.ApacheConf != "" {
		if err := sf.loadApache(o.ApacheConf); err != nil {
			return nil, fmt.Errorf("%w: --apache-conf: %v", ErrUsage, err)
		}
	}
	return sf, nil
}

func rootFS(path string) (fsys string, abs string, err error) {
	abs, err = filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", "", err
	}
	return "/", abs, nil
}

func (sf *serverFormats) loadNginx(path string) error {
	root, abs, err := rootFS(path)
	if err != nil {
		return err
	}
	cfg, err := nginxconf.Load(os.DirFS(root), abs)
	if err != nil {
		return err
	}
	for _, lf := range cfg.LogFormats() {
		esc := nginx.EscapeDefault
		switch lf.Escape {
		case "json":
			esc = nginx.EscapeJSON
		case "none":
			esc = nginx.EscapeNone
		}
		f, err := nginx.CompileFormat(lf.Name, lf.Format, esc)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", lf.File, lf.Line, err)
		}
		sf.nginx = append(sf.nginx, namedNginx{name: lf.Name, f: f})
	}
	for _, al := range cfg.AccessLogs() {
		if al.Off || al.NotFile {
			continue
		}
		sf.nginxPaths[al.Path] = al.Format
		sf.addSite(al.Path, firstName(al.ServerNames))
		if al.Format == "combined" {
			sf.nginx = appendCombinedOnce(sf.nginx)
		}
	}
	return nil
}

// appendCombinedOnce makes the built-in combined selectable by name when
// an access_log uses it.
func appendCombinedOnce(l []namedNginx) []namedNginx {
	for _, n := range l {
		if n.name == "combined" {
			return l
		}
	}
	return append(l, namedNginx{name: "combined", f: nginx.Combined()})
}

func (sf *serverFormats) loadApache(path string) error {
	root, abs, err := rootFS(path)
	if err != nil {
		return err
	}
	cfg, err := apacheconf.Load(os.DirFS(root), abs)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	addFormat := func(name, spec, file string, line int) error {
		if seen[name] {
			return nil
		}
		f, err := apache.CompileLogFormat(name, spec)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", file, line, err)
		}
		seen[name] = true
		sf.apache = append(sf.apache, namedApache{name: name, f: f})
		return nil
	}
	for _, lf := range cfg.LogFormats {
		name := lf.Nickname
		if name == "" {
			name = "default"
		}
		if err := addFormat(name, lf.Format, lf.File, lf.Line); err != nil {
			return err
		}
	}
	for _, cl := range cfg.AccessLogs() {
		if !cl.Readable {
			continue
		}
		name := cl.Nickname
		if name == "" {
			name = fmt.Sprintf("inline@%s:%d", filepath.Base(cl.File), cl.Line)
		}
		if err := addFormat(name, cl.Format, cl.File, cl.Line); err != nil {
			return err
		}
		sf.apachePaths[cl.Path] = name
		site := cl.VHost
		if site == "" && len(cfg.VHosts) == 0 && cfg.Main != nil {
			site = cfg.Main.ServerName // the main server's log is every vhost's without one of its own
		}
		sf.addSite(cl.Path, site)
	}
	return nil
}

// firstName is the server block's first real server_name ("_" and "" are
// catch-alls, not names).
func firstName(names []string) string {
	for _, n := range names {
		if n != "_" && n != "" && n != `""` {
			return n
		}
	}
	return ""
}
