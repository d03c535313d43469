package analyze

import (
	"path/filepath"
	"strings"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/detect"
	"github.com/origin-agent/origin-agent/parsers/kernel"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/phpfpm"
)

// builder makes a parser for a file once its options (zone, reference
// time) are known. bulk asks for the fastest parser that still gives the
// correlator all it needs (detection uses the exact one).
type builder func(o parsers.Options, bulk bool) parsers.Func

func exact(mk func(parsers.Options) parsers.Func) builder {
	return func(o parsers.Options, _ bool) parsers.Func { return mk(o) }
}

func nginxAccess(f *nginx.Format) builder {
	return func(o parsers.Options, bulk bool) parsers.Func {
		if bulk {
			return nginx.NewAccessTriage(f, o)
		}
		return nginx.NewAccess(f, o)
	}
}

func apacheAccess(f *apache.Format) builder {
	return exact(func(o parsers.Options) parsers.Func { return apache.NewAccess(f, o) })
}

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
// candidate and the one that parses the sample wins.
func (sf *serverFormats) candidates(path string, typ parsers.Type) ([]detect.Candidate, []builder) {
	var cands []detect.Candidate
	var builders []builder
	add := func(t parsers.Type, name string, b builder) {
		if typ != "" && typ != t {
			return
		}
		cands = append(cands, detect.Candidate{Type: t, Name: name, Parse: b(parsers.Options{}, false)})
		builders = append(builders, b)
	}
	if sf != nil {
		if name, ok := lookupLog(sf.nginxPaths, path); ok {
			for _, nf := range sf.nginx {
				if nf.name == name {
					add(parsers.TypeNginxAccess, nf.name, nginxAccess(nf.f))
				}
			}
		}
		if name, ok := lookupLog(sf.apachePaths, path); ok {
			for _, af := range sf.apache {
				if af.name == name {
					add(parsers.TypeApacheAccess, af.name, apacheAccess(af.f))
				}
			}
		}
		for _, nf := range sf.nginx {
			add(parsers.TypeNginxAccess, nf.name, nginxAccess(nf.f))
		}
		for _, af := range sf.apache {
			add(parsers.TypeApacheAccess, af.name, apacheAccess(af.f))
		}
	}
	add(parsers.TypeNginxAccess, "combined", nginxAccess(nginx.Combined()))
	add(parsers.TypeNginxAccess, "json", exact(nginx.NewJSONAccess))
	add(parsers.TypeApacheAccess, "combined", apacheAccess(apache.Combined()))
	add(parsers.TypeApacheAccess, "vhost_combined", apacheAccess(apache.VhostCombined()))
	add(parsers.TypeApacheAccess, "common", apacheAccess(apache.Common()))
	add(parsers.TypeNginxError, "nginx", exact(nginx.NewError))
	add(parsers.TypeApacheError, "apache", exact(apache.NewError))
	add(parsers.TypePHPFPM, "php-fpm", exact(phpfpm.New))
	add(parsers.TypeKernel, "kernel", exact(kernel.New))
	return cands, builders
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
