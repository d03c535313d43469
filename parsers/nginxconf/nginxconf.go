// Package nginxconf reads nginx configuration: the main file with its
// includes from an fs.FS, or the output of `nginx -T`. It does no I/O of its
// own beyond the fs.FS it is given, so it tests on fstest.MapFS and reads a
// live host through os.DirFS("/").
//
// The result is the directive tree nginx itself would build (includes are
// spliced in where they appear, each directive keeps its own file and
// line), plus helpers for what origin-agent needs: log formats, access and
// error logs, servers, real-IP settings, upstream timeouts and targets.
package nginxconf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"
)

// Directive is one statement: a name, its arguments and, for block
// directives (http, server, location, upstream...), its children.
type Directive struct {
	Name  string
	Args  []string
	File  string // the file it was read from, as named by Load or the include
	Line  int    // 1-based line of the directive's name
	Block []*Directive
	// HasBlock is true for "name args { ... }", even when the block is empty.
	HasBlock bool
}

// Pos returns "file:line".
func (d *Directive) Pos() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// Config is a parsed configuration.
type Config struct {
	Main       string       // path of the main file
	Directives []*Directive // the main file's top level, includes spliced in
}

// maxIncludeDepth stops include cycles (nginx has no limit and loops).
const maxIncludeDepth = 32

// Load reads the main file at name from fsys and follows its includes.
// Names may be absolute ("/etc/nginx/nginx.conf"); the leading slash is
// dropped to open them in fsys, so os.DirFS("/") reads the host. Relative
// include paths resolve against the directory of the main file (nginx's
// conf prefix). An include whose pattern matches nothing is not an error
// when it has glob characters, as in nginx.
func Load(fsys fs.FS, name string) (*Config, error) {
	l := loader{fsys: fsys, prefix: path.Dir(name)}
	ds, err := l.file(name, 0)
	if err != nil {
		return nil, err
	}
	return &Config{Main: name, Directives: ds}, nil
}

// dumpHeader starts each file in `nginx -T` output.
const dumpHeader = "# configuration file "

// ParseDump reads the output of `nginx -T`: every file nginx read, each
// after a "# configuration file PATH:" line and followed by one extra
// newline. The files become a virtual file system, so includes resolve to
// the dumped files; the first file is the main one. Text before the first
// header (nginx's "syntax is ok" lines when stderr was captured too) is
// ignored.
func ParseDump(dump []byte) (*Config, error) {
	files := fstest.MapFS{}
	var main string
	var cur string
	var body []byte
	flush := func() {
		if cur == "" {
			return
		}
		// nginx -T writes the file and then "\n".
		body = bytes.TrimSuffix(body, []byte("\n"))
		files[fsName(cur)] = &fstest.MapFile{Data: body}
	}
	for rest := dump; len(rest) > 0; {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		t := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(t, []byte(dumpHeader)) && bytes.HasSuffix(t, []byte(":")) {
			flush()
			cur = string(t[len(dumpHeader) : len(t)-1])
			body = nil
			if main == "" {
				main = cur
			}
			continue
		}
		if cur != "" {
			body = append(body, line...)
		}
	}
	flush()
	if main == "" {
		return nil, errors.New(`nginx -T output: no "# configuration file" header`)
	}
	return Load(files, main)
}

// fsName turns a configuration path into an fs.FS name.
func fsName(p string) string {
	p = path.Clean(p)
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return p
}

type loader struct {
	fsys   fs.FS
	prefix string
}

func (l loader) file(name string, depth int) ([]*Directive, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("%s: includes nested deeper than %d (an include cycle?)", name, maxIncludeDepth)
	}
	src, err := fs.ReadFile(l.fsys, fsName(name))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	toks, err := tokenize(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{name: name, toks: toks}
	ds, err := p.block(false)
	if err != nil {
		return nil, err
	}
	return l.expand(ds, depth)
}

// expand replaces include directives by the directives of the files they name.
func (l loader) expand(ds []*Directive, depth int) ([]*Directive, error) {
	out := ds[:0:0]
	for _, d := range ds {
		if d.HasBlock {
			b, err := l.expand(d.Block, depth)
			if err != nil {
				return nil, err
			}
			d.Block = b
		}
		if d.Name != "include" || d.HasBlock {
			out = append(out, d)
			continue
		}
		if len(d.Args) != 1 {
			return nil, fmt.Errorf("%s: invalid number of arguments in \"include\"", d.Pos())
		}
		pat := d.Args[0]
		if !path.IsAbs(pat) {
			pat = path.Join(l.prefix, pat)
		}
		var names []string
		if strings.ContainsAny(pat, "*?[") {
			m, err := fs.Glob(l.fsys, fsName(pat))
			if err != nil {
				return nil, fmt.Errorf("%s: include %s: %w", d.Pos(), d.Args[0], err)
			}
			for _, n := range m { // fs.Glob sorts, as nginx's glob does
				names = append(names, displayName(pat, n))
			}
		} else {
			names = []string{pat}
		}
		for _, n := range names {
			sub, err := l.file(n, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: include: %w", d.Pos(), err)
			}
			out = append(out, sub...)
		}
	}
	return out, nil
}

// displayName restores the leading slash fs.Glob's result lacks.
func displayName(pattern, match string) string {
	if path.IsAbs(pattern) {
		return "/" + match
	}
	return match
}

type parser struct {
	name string
	toks []token
	pos  int
}

// block parses directives until '}' (inner) or end of input (top level).
func (p *parser) block(inner bool) ([]*Directive, error) {
	var out []*Directive
	for {
		if p.pos >= len(p.toks) {
			if inner {
				return nil, fmt.Errorf("%s: unexpected end of file, expecting \"}\"", p.name)
			}
			return out, nil
		}
		t := p.toks[p.pos]
		switch t.kind {
		case tokClose:
			if !inner {
				return nil, fmt.Errorf("%s:%d: unexpected \"}\"", p.name, t.line)
			}
			p.pos++
			return out, nil
		case tokSemi, tokOpen:
			return nil, fmt.Errorf("%s:%d: unexpected %q", p.name, t.line, t.text)
		}
		d := &Directive{Name: t.text, File: p.name, Line: t.line}
		p.pos++
	args:
		for {
			if p.pos >= len(p.toks) {
				return nil, fmt.Errorf("%s: unexpected end of file, expecting \";\" or \"}\"", p.name)
			}
			a := p.toks[p.pos]
			p.pos++
			switch a.kind {
			case tokWord:
				d.Args = append(d.Args, a.text)
			case tokSemi:
				break args
			case tokOpen:
				d.HasBlock = true
				b, err := p.block(true)
				if err != nil {
					return nil, err
				}
				d.Block = b
				break args
			case tokClose:
				return nil, fmt.Errorf("%s:%d: unexpected \"}\"", p.name, a.line)
			}
		}
		out = append(out, d)
	}
}

// Walk calls fn for every directive in document order with the chain of
// block directives that enclose it (outermost first). It stops at the
// first error fn returns.
func (c *Config) Walk(fn func(d *Directive, parents []*Directive) error) error {
	return walk(c.Directives, nil, fn)
}

func walk(ds []*Directive, parents []*Directive, fn func(*Directive, []*Directive) error) error {
	for _, d := range ds {
		if err := fn(d, parents); err != nil {
			return err
		}
		if d.HasBlock {
			if err := walk(d.Block, append(parents[:len(parents):len(parents)], d), fn); err != nil {
				return err
			}
		}
	}
	return nil
}
