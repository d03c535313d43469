// Package config is origin-agent's configuration: the TOML file of DESIGN.md
// (/etc/origin-agent/config.toml or --config FILE), its defaults, and its
// checks.
//
// Loading has two steps. Decode is strict: a syntax error, an unknown key or a
// value of the wrong type is an error, and decoding goes on past it so that
// every mistake is reported at once. Validate is pure: it checks values
// (durations, paths, URLs, ports) and joins every problem. Each error is an
// *Error naming the file, line and key: "config.toml:14: sources.nginx_access:
// …". Checks that need the system (does the file exist, can the port be
// bound) belong to the agent, not here.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// DefaultPath is where the agent looks for its configuration when no
// --config is given. A missing file there is not an error: the agent runs
// on Default().
const DefaultPath = "/etc/origin-agent/config.toml"

// Config is the whole configuration. Every field has a default (Default),
// so a file only sets what differs.
type Config struct {
	Agent     Agent     `toml:"agent"`
	Sources   Sources   `toml:"sources"`
	Correlate Correlate `toml:"correlate"`
	Checks    Checks    `toml:"checks"`
	Firewall  Firewall  `toml:"firewall"`
	Metrics   Metrics   `toml:"metrics"`
	Privacy   Privacy   `toml:"privacy"`
	// Sinks receive findings. A file with at least one [[sinks]] table
	// replaces the default list (stdout and the findings file).
	Sinks []Sink `toml:"sinks"`

	file  string         // the file decoded, "" for Default()
	lines map[string]int // key ("sources.nginx_access", "sinks.1.url") → line
}

// Agent is the [agent] table.
type Agent struct {
	StateDir string `toml:"state_dir"` // positions, spool, Cloudflare ranges; absolute
	Hostname string `toml:"hostname"`  // "" means os.Hostname()
	LogLevel string `toml:"log_level"` // debug | info | warn | error
}

// Sources is the [sources] table. Empty lists mean "discover": the paths
// come from the server's configuration (see agent/discover).
type Sources struct {
	NginxConf    string   `toml:"nginx_conf"`    // nginx main config; "off" skips nginx discovery
	NginxAccess  []string `toml:"nginx_access"`  // access logs to tail; absolute paths
	NginxError   []string `toml:"nginx_error"`   // error logs to tail
	ApacheConf   string   `toml:"apache_conf"`   // "" finds apache2.conf or httpd.conf; "off" skips apache
	ApacheAccess []string `toml:"apache_access"` // CustomLog files
	ApacheError  []string `toml:"apache_error"`  // ErrorLog files
	PHPFPM       []string `toml:"php_fpm"`       // php-fpm error logs (master and pools)
	PHPFPMConf   string   `toml:"php_fpm_conf"`  // "" finds php-fpm.conf (Debian and RHEL); "off" skips php-fpm
	Kernel       string   `toml:"kernel"`        // "auto" | "kmsg" | "journal" | absolute file path | "off"
}

// Correlate is the [correlate] table.
type Correlate struct {
	Gap Duration `toml:"gap"` // quiet time that ends an incident
}

// Checks is the [checks] table: the periodic host checks.
type Checks struct {
	Interval  Duration `toml:"interval"`
	Ports     []int    `toml:"ports"`     // listeners that must be up (Cloudflare's 521); empty = the ports the web servers' configurations listen on
	Upstreams []string `toml:"upstreams"` // extra "unix:/path" or "host:port" to probe besides the discovered ones
}

// Firewall is the [firewall] table.
type Firewall struct {
	AuditInterval Duration `toml:"audit_interval"`
	Manage        bool     `toml:"manage"` // keep the ORIGIN-AGENT-CF chain in sync with Cloudflare's ranges
}

// Metrics is the [metrics] table.
type Metrics struct {
	Listen string `toml:"listen"` // host:port of /metrics and /healthz; "" turns them off
}

// Privacy is the [privacy] table: what is hidden in evidence lines before
// they leave the host.
type Privacy struct {
	Redact       bool     `toml:"redact"`        // hide secrets in shipped lines (see agent/sink.Redactor); client IPs are kept
	RedactParams []string `toml:"redact_params"` // query parameters whose values are replaced
}

const (
	defaultStateDir     = "/var/lib/origin-agent"
	defaultFindingsFile = defaultStateDir + "/findings.jsonl"
)

// Default returns the configuration used when no file exists; a file's keys
// override it.
func Default() *Config {
	return &Config{
		Agent: Agent{StateDir: defaultStateDir, LogLevel: "info"},
		Sources: Sources{
			NginxConf: "/etc/nginx/nginx.conf",
			Kernel:    "auto",
		},
		Correlate: Correlate{Gap: Duration(60 * time.Second)},
		Checks:    Checks{Interval: Duration(10 * time.Second)},
		Firewall:  Firewall{AuditInterval: Duration(5 * time.Minute)},
		Metrics:   Metrics{Listen: "127.0.0.1:9464"},
		Privacy: Privacy{Redact: true, RedactParams: []string{
			"password", "passwd", "pwd", "token", "access_token", "refresh_token", "api_key", "apikey",
			"key", "secret", "session", "sessionid", "sid", "auth", "signature", "sig", "code",
		}},
		Sinks: []Sink{
			DefaultSink("stdout"),
			func() Sink { s := DefaultSink("file"); s.Path = defaultFindingsFile; return s }(),
		},
	}
}

// Load reads, decodes and validates the file at path. An empty path means
// DefaultPath, where a missing file yields Default() and no error; a path
// given explicitly must exist. The error joins every problem found; the
// returned Config is usable only when the error is nil.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return Default(), nil
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, derr := Decode(path, data)
	verr := c.Validate()
	if derr == nil && verr == nil {
		return c, nil
	}
	// One list in line order, syntax and type errors among value errors.
	var list []*Error
	for _, err := range []error{derr, verr} {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				ce, ok := e.(*Error)
				if !ok {
					ce = &Error{File: path, Err: e}
				}
				list = append(list, ce)
			}
		} else if e, ok := err.(*Error); ok {
			list = append(list, e)
		}
	}
	return c, joinByLine(list)
}

// File returns the path the configuration was decoded from ("" for Default).
func (c *Config) File() string { return c.file }
