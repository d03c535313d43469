package analyze

import (
	"path/filepath"
	"strings"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/detect"
	"github.com/origin-agent/origin-agent/parsers/nginx"
)

// builder makes a parser for a file once its options (zone, reference
// time) are known. bulk asks for the fastest parser that still gives the
// correlator all it needs (detection uses the exact one).
// fb, when not nil, reads the lines parse does not (detect.Parts).
type builder func(o parsers.Options, bulk bool) (parse parsers.Func, fb detect.Fallback)

// serverFormats are the access-log formats known besides the built-in ones:
// those read from a real nginx or apache config, and which log file each
// config writes with which format.
type serverFormats struct {
	nginx  []namedNginx
	apache []namedApache
	// byPath maps an access_log / CustomLog path to its format name.
	nginxPaths  map[string]string
	apachePaths map[string]string
	// sites maps an access log path to the server_name / ServerName of the
	// one server block or vhost that writes it ("" where several share it).
	sites map[string]string
}

// siteOf is the site whose access log path is, when the configs say.
func (sf *serverFormats) siteOf(path string) string {
	if sf == nil {
		return ""
	}
	s, _ := lookupLog(sf.sites, path)
	return s
}

// addSite records that path is written for site; a path shared by two
// sites names neither.
func (sf *serverFormats) addSite(path, site string) {
	if prev, ok := sf.sites[path]; ok && prev != site {
		site = ""
	}
	sf.sites[path] = site
}

type namedNginx struct {
	name string
	f    *nginx.Format
}

type namedApache struct {
	name string
	f    *apache.Format
}

// candidates lists the ways path may be read. With typ set only that type
// is considered. For access logs whose path (or file name) a config names,
// that format comes first; otherwise every format the configs define is a
// candidate and the one that parses the sample wins. The built-in formats
// follow (detect.Builtin: the same list the daemon chooses from).
func (sf *serverFormats) candidates(path string, typ parsers.Type) ([]detect.Candidate, []builder) {
	formats := sf.formats(path, typ)
	builders := make([]builder, len(formats))
	for i := range formats {
		builders[i] = func(o parsers.Options, bulk bool) (parsers.Func, detect.Fallback) {
			return detect.Parts(formats, i, o, bulk)
		}
	}
	return detect.Candidates(formats), builders
}

// formats lists the configured formats for path, then the built-in ones.
func (sf *serverFormats) formats(path string, typ parsers.Type) []detect.Format {
	var out []detect.Format
	add := func(f detect.Format) {
		if typ == "" || typ == f.Type {
			out = append(out, f)
		}
	}
	if sf != nil {
		if name, ok := lookupLog(sf.nginxPaths, path); ok {
			for _, nf := range sf.nginx {
				if nf.name == name {
					add(detect.NginxAccess(nf.name, nf.f))
				}
			}
		}
		if name, ok := lookupLog(sf.apachePaths, path); ok {
			for _, af := range sf.apache {
				if af.name == name {
					add(detect.ApacheAccess(af.name, af.f))
				}
			}
		}
		for _, nf := range sf.nginx {
			add(detect.NginxAccess(nf.name, nf.f))
		}
		for _, af := range sf.apache {
			add(detect.ApacheAccess(af.name, af.f))
		}
	}
	for _, f := range detect.Builtin(typ) {
		add(f)
	}
	return out
}

// lookupLog finds the format of a log file by its full path, then by its
// name with rotation suffixes (.1, .2.gz) removed.
func lookupLog(m map[string]string, path string) (string, bool) {
	if len(m) == 0 {
		return "", false
	}
	if abs, err := filepath.Abs(path); err == nil {
		if f, ok := m[abs]; ok {
			return f, true
		}
	}
	base := rotatedBase(filepath.Base(path))
	for p, f := range m {
		if filepath.Base(p) == base {
			return f, true
		}
	}
	return "", false
}

// rotatedBase strips logrotate's suffixes: access.log.2.gz → access.log.
func rotatedBase(name string) string {
	name = strings.TrimSuffix(name, ".gz")
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		suffix := name[i+1:]
		if _, ok := parsers.Atoi([]byte(suffix)); ok {
			return name[:i]
		}
		if len(suffix) == 8 { // dateext: access.log-20261120
			if _, ok := parsers.Atoi([]byte(suffix)); ok {
				return name[:i]
			}
		}
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, ok := parsers.Atoi([]byte(name[i+1:])); ok && len(name)-i-1 == 8 {
			return name[:i]
		}
	}
	return name
}
