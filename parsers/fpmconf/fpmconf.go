// Package fpmconf reads php-fpm configuration: the master file (php-fpm.conf,
// whose [global] section names the master's error log, log level and pid file,
// and whose include= lines pull in the pool files) and the pool files
// (/etc/php/*/fpm/pool.d/*.conf on Debian, /etc/php-fpm.d/*.conf on RHEL).
//
// It is a pure reader: it does no I/O but through the fs.FS it is given
// (os.DirFS("/") on a host, fstest.MapFS in tests), so absolute paths are
// looked up without their leading "/". It follows php-fpm's own rules where
// they matter for diagnosis: INI syntax, [name] opens (or reopens) a pool,
// [global] the master settings, $pool in a pool's values is its name,
// durations take the suffixes s, m, h and d, sizes K, M and G.
package fpmconf

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Config is what php-fpm configuration files say.
type Config struct {
	// Global is the [global] section of the first master file read (the one
	// most hosts have). Its zero value means no master file was found.
	Global Global
	// Globals lists the [global] section of every master file read, in the
	// order of the patterns, for hosts that run several PHP versions.
	Globals []Global
	// Pools in the order their sections first appear. A pool whose section
	// appears twice is one pool, as in php-fpm.
	Pools []Pool
	// Files lists every file read, in order.
	Files []string
	// Warnings are what php-fpm itself only warns about (an include that
	// matches nothing); they are not errors.
	Warnings []string
}

// Global is the [global] section of a php-fpm master file.
type Global struct {
	File     string // the master file, as named in fsys ("etc/php/8.2/fpm/php-fpm.conf")
	ErrorLog string // error_log as written: a path, "syslog", or "" when unset
	LogLevel string // log_level; "notice" (php-fpm's default) when unset
	PID      string // pid
}

// Pool is one [pool] section.
type Pool struct {
	Name string
	File string // the file of the section's first header
	Line int    // its 1-based line

	// Master is the master file (one with [global] or include lines) that
	// defines or includes this pool, or "" when a pool file was read directly.
	Master string

	Listen      string // as written: "/run/php/php8.2-fpm.sock", "127.0.0.1:9000", "9000", "[::]:9000"
	ListenOwner string
	ListenGroup string
	ListenMode  string // as written, e.g. "0660"
	User        string
	Group       string

	PM           string // "static", "dynamic", "ondemand" or "" when unset
	MaxChildren  int
	StartServers int
	MinSpare     int
	MaxSpare     int
	MaxRequests  int

	RequestTerminateTimeout time.Duration // 0: off
	RequestSlowlogTimeout   time.Duration // 0: off
	Slowlog                 string        // slowlog path, $pool expanded
	StatusPath              string        // pm.status_path
	PingPath                string        // ping.path

	// MemoryLimit is memory_limit from php_admin_value or php_value in
	// bytes: 0 when not set here (php.ini decides), -1 for unlimited.
	MemoryLimit int64
	// ErrorLog is php_admin_value[error_log] (or php_value), where the
	// workers' PHP errors go; "" when they go to the master's log.
	ErrorLog string

	// Values holds every key of the section as written (last one wins),
	// with $pool expanded, e.g. "listen.allowed_clients",
	// "php_admin_value[error_log]".
	Values map[string]string
}

// ListenAddr returns the network ("unix" or "tcp") and address to connect
// to for the pool's listen value. A bare port, which php-fpm binds on every
// address, is reached on 127.0.0.1. It returns "", "" when listen is unset.
func (p *Pool) ListenAddr() (network, address string) {
	l := p.Listen
	switch {
	case l == "":
		return "", ""
	case strings.HasPrefix(l, "/"):
		return "unix", l
	case isDigits(l):
		return "tcp", "127.0.0.1:" + l
	}
	return "tcp", l
}

// Load reads the files matching each glob pattern (paths in fsys, a leading
// "/" is dropped) and every file they include. Patterns usually name master
// files ("etc/php/*/fpm/php-fpm.conf", "etc/php-fpm.conf"), but pool files
// work too; a file reached twice is read once. A pattern that matches
// nothing is not an error: php-fpm may not be installed.
//
// Load returns every error it met joined, each naming file:line, together
// with the configuration it could read.
func Load(fsys fs.FS, patterns ...string) (*Config, error) {
	l := &loader{fsys: fsys, cfg: &Config{}, seen: map[string]bool{}, pools: map[string]int{}}
	for _, pat := range patterns {
		pat = strings.TrimPrefix(pat, "/")
		names, err := fs.Glob(fsys, pat)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("glob %s: %w", pat, err))
			continue
		}
		for _, name := range names {
			l.file(name, "", 0)
		}
	}
	return l.cfg, errors.Join(l.errs...)
}

// maxDepth bounds include nesting, so a file that includes itself through
// a glob cannot loop (seen stops exact repeats already).
const maxDepth = 16

type loader struct {
	fsys  fs.FS
	cfg   *Config
	seen  map[string]bool
	pools map[string]int // pool name → index in cfg.Pools
	errs  []error
}

// file reads one file. master is the master file that led here ("" when it
// is one itself, or read directly).
func (l *loader) file(name, master string, depth int) {
	if l.seen[name] {
		return
	}
	l.seen[name] = true
	if depth > maxDepth {
		l.errs = append(l.errs, fmt.Errorf("%s: includes nested deeper than %d", name, maxDepth))
		return
	}
	data, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
		return
	}
	l.cfg.Files = append(l.cfg.Files, name)
	entries, perr := parseINI(data)
	for _, e := range perr {
		l.errs = append(l.errs, fmt.Errorf("%s:%d: %s", name, e.line, e.msg))
	}
	// A file with a [global] section or an include line is a master file:
	// its own pools belong to it.
	if master == "" {
		for _, e := range entries {
			if strings.EqualFold(e.section, "global") || strings.EqualFold(e.key, "include") {
				master = name
				break
			}
		}
	}
	// Indexes, not pointers: an include may grow the slices.
	pool, global := -1, -1 // current pool (-1: global context), this file's [global]
	for _, e := range entries {
		if e.section != "" {
			if strings.EqualFold(e.section, "global") {
				pool = -1
				continue
			}
			pool = l.pool(e.section, name, e.line, master)
			continue
		}
		key := strings.ToLower(e.key)
		if key == "include" {
			l.include(name, e, master, depth)
			continue
		}
		if pool < 0 {
			// php-fpm reads keys before any section as global ones.
			if global < 0 {
				l.cfg.Globals = append(l.cfg.Globals, Global{File: name, LogLevel: "notice"})
				global = len(l.cfg.Globals) - 1
			}
			g := &l.cfg.Globals[global]
			switch key {
			case "error_log":
				g.ErrorLog = e.value
			case "log_level":
				g.LogLevel = e.value
			case "pid":
				g.PID = e.value
			}
			l.cfg.Global = l.cfg.Globals[0]
			continue
		}
		p := &l.cfg.Pools[pool]
		if err := p.set(key, e.value); err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s:%d: [%s] %s: %w", name, e.line, p.Name, e.key, err))
		}
	}
}

// pool returns the index of the pool named name, creating it at file:line.
func (l *loader) pool(name, file string, line int, master string) int {
	if i, ok := l.pools[name]; ok {
		return i
	}
	l.cfg.Pools = append(l.cfg.Pools, Pool{Name: name, File: file, Line: line, Master: master, Values: map[string]string{}})
	l.pools[name] = len(l.cfg.Pools) - 1
	return len(l.cfg.Pools) - 1
}

// include follows include=PATTERN. A relative pattern resolves against the
// including file's directory (php-fpm resolves it against its prefix, which
// on packaged builds is where php-fpm.conf lives or /usr: the file's
// directory is the useful guess).
func (l *loader) include(file string, e entry, master string, depth int) {
	pat := e.value
	if pat == "" {
		l.errs = append(l.errs, fmt.Errorf("%s:%d: include without a pattern", file, e.line))
		return
	}
	if strings.HasPrefix(pat, "/") {
		pat = pat[1:]
	} else {
		pat = path.Join(path.Dir(file), pat)
	}
	names, err := fs.Glob(l.fsys, pat)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s:%d: include %q: %w", file, e.line, e.value, err))
		return
	}
	if len(names) == 0 {
		l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf("%s:%d: nothing matches the include pattern %q", file, e.line, e.value))
		return
	}
	for _, n := range names {
		if st, err := fs.Stat(l.fsys, n); err == nil && st.IsDir() {
			l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf("%s:%d: include %q matches directory %s, skipped", file, e.line, e.value, n))
			continue
		}
		l.file(n, master, depth+1)
	}
}
