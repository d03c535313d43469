// Package apacheconf reads an Apache httpd configuration from an fs.FS and
// extracts what origin-agent needs: log formats and log files, virtual
// hosts, listeners, timeouts, proxy (php-fpm) targets, mod_remoteip and
// MaxRequestWorkers.
//
// It is a pure reader: it does no I/O but through the fs.FS it is given
// (os.DirFS("/") on a host, fstest.MapFS in tests), so absolute paths in
// the configuration are looked up without their leading "/". It follows
// Include/IncludeOptional (globs and directories, relative to ServerRoot),
// line continuations, quoting, Define and ${VAR} (with Debian's
// APACHE_LOG_DIR and friends as defaults). Sections keep their nesting;
// <IfModule mod> contents count as if the module were loaded; <IfModule
// !mod> contents count unless a LoadModule named mod; <IfDefine> follows
// Define.
package apacheconf

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// maxIncludeDepth is Apache's AP_MAX_INCLUDE_DEPTH.
const maxIncludeDepth = 128

// Options tune Load. The zero value suits a Debian/Ubuntu host.
type Options struct {
	// ServerRoot, an absolute path; default: the directory of the root file.
	ServerRoot string
	// Env are environment variables for ${VAR}; they override the Debian
	// defaults (APACHE_LOG_DIR=/var/log/apache2 …).
	Env map[string]string
}

// debianEnv are the values /etc/apache2/envvars exports by default.
var debianEnv = map[string]string{
	"APACHE_LOG_DIR":   "/var/log/apache2",
	"APACHE_RUN_DIR":   "/var/run/apache2",
	"APACHE_PID_FILE":  "/var/run/apache2/apache2.pid",
	"APACHE_LOCK_DIR":  "/var/lock/apache2",
	"APACHE_RUN_USER":  "www-data",
	"APACHE_RUN_GROUP": "www-data",
}

// Directive is one configuration directive, or a section with its Block.
type Directive struct {
	Name  string   // as written, e.g. "CustomLog", "VirtualHost"
	Args  []string // unquoted, ${VAR}s substituted
	File  string   // file as shown in errors (relative to ServerRoot when under it)
	Line  int
	Block []*Directive // a section's contents (nil for plain directives)
	// Section is true for <Name …> … </Name>.
	Section bool
	// Inactive is true for sections whose contents Apache would not apply
	// (<IfModule !mod> of a loaded mod, <IfDefine> of an undefined name); their
	// Include directives are not followed.
	Inactive bool
}

// reader holds the state of one Load.
type reader struct {
	fsys       fs.FS
	serverRoot string
	vars       map[string]string // Define'd names
	loaded     map[string]bool   // modules named by LoadModule, by identifier and by source file name
	env        map[string]string
	files      []string
	warnings   []string
}

// errf formats "file:line: message".
func errf(file string, line int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, a...))
}

// show returns how a path appears in errors.
func (r *reader) show(abs string) string {
	root := strings.TrimSuffix(r.serverRoot, "/") + "/"
	if strings.HasPrefix(abs, root) {
		return strings.TrimPrefix(abs, root)
	}
	return abs
}

// fsPath maps an absolute config path to a path inside fsys.
func fsPath(abs string) string {
	p := strings.TrimPrefix(path.Clean(abs), "/")
	if p == "" {
		return "."
	}
	return p
}

// abs resolves p relative to ServerRoot.
func (r *reader) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(r.serverRoot, p)
}

// readFile parses one file into directives.
func (r *reader) readFile(abs string, depth int) ([]*Directive, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("%s: includes nested deeper than %d (an Include loop?)", r.show(abs), maxIncludeDepth)
	}
	data, err := fs.ReadFile(r.fsys, fsPath(abs))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	r.files = append(r.files, abs)
	return r.parse(string(data), r.show(abs), depth)
}

type frame struct {
	d    *Directive
	list *[]*Directive
}

func (r *reader) parse(text, file string, depth int) ([]*Directive, error) {
	var top []*Directive
	stack := []frame{{list: &top}}
	inactive := func() bool {
		for _, f := range stack {
			if f.d != nil && f.d.Inactive {
				return true
			}
		}
		return false
	}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		l := strings.TrimRight(lines[i], " \t\r")
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + strings.TrimRight(lines[i], " \t\r")
		}
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		l = r.subst(l, file, lineNo)
		cur := stack[len(stack)-1]
		if strings.HasPrefix(l, "</") {
			name := strings.TrimSpace(strings.TrimSuffix(l[2:], ">"))
			if cur.d == nil || !strings.EqualFold(cur.d.Name, name) {
				return nil, errf(file, lineNo, "</%s> without matching <%s> section", name, name)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if l[0] == '<' {
			if !strings.HasSuffix(l, ">") {
				return nil, errf(file, lineNo, "%s directive missing closing '>'", strings.Fields(l)[0])
			}
			words, err := tokenize(l[1 : len(l)-1])
			if err != nil {
				return nil, errf(file, lineNo, "%v", err)
			}
			if len(words) == 0 {
				return nil, errf(file, lineNo, "empty section")
			}
			d := &Directive{Name: words[0], Args: words[1:], File: file, Line: lineNo, Section: true, Block: []*Directive{}}
			d.Inactive = r.inactiveSection(d)
			*cur.list = append(*cur.list, d)
			stack = append(stack, frame{d: d, list: &d.Block})
			continue
		}
		words, err := tokenize(l)
		if err != nil {
			return nil, errf(file, lineNo, "%v", err)
		}
		d := &Directive{Name: words[0], Args: words[1:], File: file, Line: lineNo}
		*cur.list = append(*cur.list, d)
		if inactive() {
			continue
		}
		switch strings.ToLower(d.Name) {
		case "define":
			if len(d.Args) >= 1 {
				v := ""
				if len(d.Args) > 1 {
					v = d.Args[1]
				}
				r.vars[d.Args[0]] = v
			}
		case "loadmodule":
			if len(d.Args) == 2 {
				r.load(d.Args[0], d.Args[1])
			}
		case "serverroot":
			if len(d.Args) == 1 && len(stack) == 1 {
				r.serverRoot = path.Clean(d.Args[0])
			}
		case "include", "includeoptional":
			if len(d.Args) != 1 {
				return nil, errf(file, lineNo, "%s takes one argument", d.Name)
			}
			inc, err := r.include(d.Args[0], strings.EqualFold(d.Name, "includeoptional"), depth)
			if err != nil {
				return nil, errf(file, lineNo, "%v", err)
			}
			d.Block = inc
		}
	}
	if len(stack) > 1 {
		d := stack[len(stack)-1].d
		return nil, errf(d.File, d.Line, "unterminated <%s>", d.Name)
	}
	return top, nil
}

// load records a LoadModule: "proxy_fcgi_module" with
// ".../mod_proxy_fcgi.so" is known as proxy_fcgi_module and mod_proxy_fcgi.c;
// "php_module" with ".../libphp8.2.so" also as mod_php8.c.
func (r *reader) load(id, file string) {
	r.loaded[id] = true
	base := strings.TrimSuffix(path.Base(file), ".so")
	if v, ok := strings.CutPrefix(base, "libphp"); ok {
		major, _, _ := strings.Cut(v, ".")
		base = "mod_php" + major
	}
	r.loaded[base+".c"] = true
}

// inactiveSection decides whether a conditional section applies.
func (r *reader) inactiveSection(d *Directive) bool {
	if len(d.Args) == 0 {
		return false
	}
	arg := d.Args[0]
	neg := strings.HasPrefix(arg, "!")
	switch strings.ToLower(d.Name) {
	case "ifmodule":
		// Every module counts as loaded, except that <IfModule !mod> is
		// decided by the LoadModule lines read so far: Debian's
		// php8.2-fpm.conf sits inside <IfModule !mod_php8.c>.
		return neg && r.loaded[strings.TrimPrefix(arg, "!")]
	case "ifdefine":
		_, def := r.vars[strings.TrimPrefix(arg, "!")]
		return def == neg
	}
	return false
}

// include expands an Include argument: a file, a directory (every file in
// it, recursively, sorted) or a glob.
func (r *reader) include(arg string, optional bool, depth int) ([]*Directive, error) {
	abs := r.abs(arg)
	var files []string
	if strings.ContainsAny(abs, "*?[") {
		matches, err := fs.Glob(r.fsys, fsPath(abs))
		if err != nil {
			return nil, fmt.Errorf("include %s: %w", arg, err)
		}
		if len(matches) == 0 && !optional {
			return nil, fmt.Errorf("include %s: no matches for the wildcard", arg)
		}
		sort.Strings(matches)
		for _, m := range matches {
			fi, err := fs.Stat(r.fsys, m)
			if err != nil || fi.IsDir() {
				continue // Apache skips directories a wildcard matches
			}
			files = append(files, "/"+m)
		}
	} else {
		fi, err := fs.Stat(r.fsys, fsPath(abs))
		switch {
		case err != nil && optional && errors.Is(err, fs.ErrNotExist):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("include %s: %w", arg, err)
		case fi.IsDir():
			err := fs.WalkDir(r.fsys, fsPath(abs), func(p string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !de.IsDir() {
					files = append(files, "/"+p)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("include %s: %w", arg, err)
			}
		default:
			files = []string{abs}
		}
	}
	var out []*Directive
	for _, f := range files {
		ds, err := r.readFile(f, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// subst replaces ${VAR} as Apache does when it reads a line; an undefined
// variable stays as written (Apache warns AH00111).
func (r *reader) subst(l, file string, line int) string {
	if !strings.Contains(l, "${") {
		return l
	}
	var b strings.Builder
	for {
		k := strings.Index(l, "${")
		if k < 0 {
			b.WriteString(l)
			return b.String()
		}
		e := strings.IndexByte(l[k:], '}')
		if e < 0 {
			b.WriteString(l)
			return b.String()
		}
		name := l[k+2 : k+e]
		b.WriteString(l[:k])
		if v, ok := r.lookup(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(l[k : k+e+1])
			r.warnings = append(r.warnings, fmt.Sprintf("%s:%d: config variable ${%s} is not defined", file, line, name))
		}
		l = l[k+e+1:]
	}
}

func (r *reader) lookup(name string) (string, bool) {
	if v, ok := r.vars[name]; ok {
		return v, true
	}
	if v, ok := r.env[name]; ok {
		return v, true
	}
	v, ok := debianEnv[name]
	return v, ok
}

// tokenize splits a line as ap_getword_conf does: words separated by
// blanks; a word that starts with ' or " runs to the matching quote, and a
// backslash before that quote character is dropped.
func tokenize(l string) ([]string, error) {
	var words []string
	for {
		l = strings.TrimLeft(l, " \t")
		if l == "" {
			return words, nil
		}
		q := l[0]
		if q != '"' && q != '\'' {
			k := strings.IndexAny(l, " \t")
			if k < 0 {
				k = len(l)
			}
			words = append(words, l[:k])
			l = l[k:]
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(l); i++ {
			if l[i] == '\\' && i+1 < len(l) && l[i+1] == q {
				b.WriteByte(q)
				i++
				continue
			}
			if l[i] == q {
				break
			}
			b.WriteByte(l[i])
		}
		if i >= len(l) {
			return nil, fmt.Errorf("unterminated quote in %q", l)
		}
		words = append(words, b.String())
		l = l[i+1:]
	}
}
