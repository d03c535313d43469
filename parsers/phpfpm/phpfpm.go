// Package phpfpm parses php-fpm's master log (the error_log of
// php-fpm.conf, written to a file or to syslog/journald) and its slowlog.
//
// Master log lines look like
//
//	[20-Nov-2026 10:01:02] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it
//	[20-Nov-2026 10:01:02.123456] WARNING: pid 4100, fpm_children_bury(), line 289: [pool www] child 4121 exited on signal 9 (SIGKILL) after 12.345678 seconds from start
//	Nov 20 10:01:02 web1 php-fpm[4100]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it
//
// and slowlog entries as
//
//	[20-Nov-2026 10:01:02]  [pool www] pid 4121
//	script_filename = /var/www/html/slow.php
//	[0x00007f6f5cc15070] sleep() /var/www/html/slow.php:3
//
// The message texts are those of php-src sapi/fpm/fpm (fpm_children.c,
// fpm_process_ctl.c, fpm_request.c, fpm_signals.c, zlog.c), checked against
// php-fpm 8.2.
package phpfpm

import (
	"bytes"
	"fmt"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// New returns a parser for php-fpm log lines. php-fpm's own stamps carry no
// zone: they are read in o.Loc() and the event has NoZone set. Syslog lines
// take their stamp from the syslog header (classic stamps also set NoYear).
//
// Blank lines (slowlog entries are separated by one) and lines in no php-fpm
// shape return parsers.ErrNoMatch. Every recognised line yields an event of
// KindFPM; Signal is SigNone for lines that say nothing about health.
func New(o parsers.Options) parsers.Func {
	p := parser{opts: o, loc: o.Loc()}
	return p.parse
}

type parser struct {
	opts parsers.Options
	loc  *time.Location
}

var (
	errEmpty    = fmt.Errorf("empty line: %w", parsers.ErrNoMatch)
	errNotFPM   = fmt.Errorf("not a php-fpm line: %w", parsers.ErrNoMatch)
	errBadLevel = fmt.Errorf("no php-fpm level after the time stamp: %w", parsers.ErrNoMatch)
)

func (p parser) parse(line []byte) (parsers.Event, error) {
	line = trimEOL(line)
	if len(line) == 0 {
		return parsers.Event{}, errEmpty
	}
	ev := parsers.Event{Kind: parsers.KindFPM}
	switch {
	case bytes.HasPrefix(line, []byte("[0x")):
		// Slowlog stack frame: "[0x00007f...] sleep() /var/www/x.php:3".
		ev.Message = line
		return ev, nil
	case line[0] == '[' && len(line) > 1 && line[1] >= '0' && line[1] <= '9':
		t, rest, ok := bracketTime(line, p.loc)
		if !ok {
			return parsers.Event{}, errNotFPM
		}
		ev.Time, ev.NoZone = t, true
		if bytes.HasPrefix(rest, []byte(" [pool ")) {
			return slowlogHeader(ev, rest[1:])
		}
		lvl, msg, ok := fileLevel(rest)
		if !ok {
			return parsers.Event{}, errBadLevel
		}
		ev.Level = lvl
		msg = stripDebug(msg, &ev)
		classify(&ev, msg)
		return ev, nil
	case bytes.HasPrefix(line, []byte("script_filename = ")):
		ev.Process = line[len("script_filename = "):]
		ev.Message = line
		return ev, nil
	}
	h, ok := parsers.ParseSyslog(line, p.opts)
	if !ok || !bytes.HasPrefix(h.Tag, []byte("php")) {
		return parsers.Event{}, errNotFPM
	}
	ev.Time, ev.NoYear, ev.NoZone, ev.PID = h.Time, h.NoYear, h.NoZone, h.PID
	lvl, msg, ok := syslogLevel(h.Msg)
	if !ok {
		return parsers.Event{}, errBadLevel
	}
	ev.Level = lvl
	msg = stripDebug(msg, &ev)
	classify(&ev, msg)
	return ev, nil
}

// slowlogHeader parses "[pool www] pid 4121", the first line of a slowlog entry.
func slowlogHeader(ev parsers.Event, b []byte) (parsers.Event, error) {
	pool, rest, ok := poolTag(b)
	if !ok || !bytes.HasPrefix(rest, []byte("pid ")) {
		return parsers.Event{}, errNotFPM
	}
	pid, ok := parsers.Atoi(rest[len("pid "):])
	if !ok {
		return parsers.Event{}, errNotFPM
	}
	ev.Signal, ev.Pool, ev.ChildPID, ev.Message = parsers.SigFPMSlowlog, pool, pid, b
	return ev, nil
}

// fileLevel splits "WARNING: msg".
func fileLevel(b []byte) (parsers.Level, []byte, bool) {
	i := bytes.IndexByte(b, ':')
	if i <= 0 || i+1 >= len(b) || b[i+1] != ' ' {
		return 0, nil, false
	}
	lvl, ok := level(b[:i])
	return lvl, b[i+2:], ok
}

// syslogLevel splits "[WARNING] msg".
func syslogLevel(b []byte) (parsers.Level, []byte, bool) {
	if len(b) < 3 || b[0] != '[' {
		return 0, nil, false
	}
	i := bytes.IndexByte(b, ']')
	if i < 0 {
		return 0, nil, false
	}
	lvl, ok := level(b[1:i])
	rest := b[i+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return lvl, rest, ok
}

// level maps zlog's level names (EMERGENCY from PHP 5's zlog too).
func level(b []byte) (parsers.Level, bool) {
	switch string(b) { // no allocation: the conversion is only compared
	case "DEBUG":
		return parsers.LevelDebug, true
	case "NOTICE":
		return parsers.LevelNotice, true
	case "WARNING":
		return parsers.LevelWarn, true
	case "ERROR":
		return parsers.LevelError, true
	case "ALERT", "EMERGENCY":
		return parsers.LevelCrit, true
	}
	return 0, false
}

// stripDebug removes the location zlog adds at log_level = debug:
// "pid 4100, fpm_children_bury(), line 289: " in the file and
// "fpm_children_bury(), line 289: " in syslog. The pid is the master's.
func stripDebug(b []byte, ev *parsers.Event) []byte {
	rest := b
	if bytes.HasPrefix(rest, []byte("pid ")) {
		c := bytes.IndexByte(rest, ',')
		if c < 0 {
			return b
		}
		pid, ok := parsers.Atoi(rest[4:c])
		if !ok || c+2 > len(rest) {
			return b
		}
		ev.PID = pid
		rest = rest[c+2:]
	}
	fn := bytes.Index(rest, []byte("(), line "))
	if fn < 0 || bytes.IndexByte(rest[:fn], ' ') >= 0 {
		if len(rest) != len(b) {
			ev.PID = 0
		}
		return b
	}
	after := rest[fn+len("(), line "):]
	c := bytes.Index(after, []byte(": "))
	if c < 0 {
		return b
	}
	if _, ok := parsers.Atoi(after[:c]); !ok {
		return b
	}
	return after[c+2:]
}

// poolTag splits "[pool www] rest".
func poolTag(b []byte) (pool, rest []byte, ok bool) {
	if !bytes.HasPrefix(b, []byte("[pool ")) {
		return nil, b, false
	}
	i := bytes.IndexByte(b, ']')
	if i < len("[pool ") {
		return nil, b, false
	}
	rest = b[i+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return b[len("[pool "):i], rest, true
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
