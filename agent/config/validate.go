package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Validate checks every value and returns all problems joined, each an
// *Error with the key's file and line when the configuration came from a
// file. It does no I/O.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.agent()
	v.sources()
	v.positive("correlate.gap", c.Correlate.Gap)
	v.checks()
	v.positive("firewall.audit_interval", c.Firewall.AuditInterval)
	if c.Metrics.Listen != "" {
		v.hostPort("metrics.listen", c.Metrics.Listen)
	}
	for i, p := range c.Privacy.RedactParams {
		if p == "" || strings.ContainsAny(p, "=& \t") {
			v.fail("privacy.redact_params", "element %d: %q is not a query parameter name", i+1, p)
		}
	}
	if len(c.Sinks) == 0 {
		v.fail("sinks", "no sinks: findings would go nowhere; add a [[sinks]] table (type = \"stdout\" at least)")
	}
	names := make(map[string]int, len(c.Sinks))
	for i := range c.Sinks {
		prefix := "sinks." + strconv.Itoa(i)
		v.sink(prefix, &c.Sinks[i])
		id := c.Sinks[i].Identity()
		if j, dup := names[id]; dup {
			v.fail(prefix+".name", "%q is also the name of sink %d: give each sink its own name (a spool belongs to one destination)", id, j+1)
		}
		names[id] = i
	}
	return joinByLine(v.errs)
}

// joinByLine joins errors in line order.
func joinByLine(list []*Error) error {
	sort.SliceStable(list, func(i, j int) bool { return list[i].Line < list[j].Line })
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

type validator struct {
	c    *Config
	errs []*Error
}

func (v *validator) fail(key, format string, args ...any) {
	v.failAs(ErrValue, key, format, args...)
}

func (v *validator) failAs(sentinel error, key, format string, args ...any) {
	v.errs = append(v.errs, v.c.errorAt(key, fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)))
}

func (v *validator) agent() {
	a := v.c.Agent
	v.absolute("agent.state_dir", a.StateDir, true)
	if strings.ContainsAny(a.Hostname, " \t\n/") {
		v.fail("agent.hostname", "%q is not a host name", a.Hostname)
	}
	switch a.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		v.fail("agent.log_level", "%q is not debug, info, warn or error", a.LogLevel)
	}
}

func (v *validator) sources() {
	s := v.c.Sources
	for _, f := range []struct{ key, val string }{
		{"sources.nginx_conf", s.NginxConf}, {"sources.apache_conf", s.ApacheConf}, {"sources.php_fpm_conf", s.PHPFPMConf},
	} {
		if f.val != "off" {
			v.absolute(f.key, f.val, false)
		}
	}
	for _, f := range []struct {
		key   string
		paths []string
	}{
		{"sources.nginx_access", s.NginxAccess}, {"sources.nginx_error", s.NginxError},
		{"sources.apache_access", s.ApacheAccess}, {"sources.apache_error", s.ApacheError}, {"sources.php_fpm", s.PHPFPM},
	} {
		for i, p := range f.paths {
			if !filepath.IsAbs(p) {
				v.fail(f.key, "element %d: %q is not an absolute path", i+1, p)
			} else if _, err := filepath.Match(p, ""); err != nil {
				v.fail(f.key, "element %d: %q is a bad glob pattern", i+1, p)
			}
		}
	}
	switch k := s.Kernel; {
	case k == "auto", k == "kmsg", k == "journal", k == "off":
	case filepath.IsAbs(k):
	default:
		v.fail("sources.kernel", "%q is not \"auto\", \"kmsg\", \"journal\", \"off\" or an absolute path", k)
	}
}

func (v *validator) checks() {
	c := v.c.Checks
	v.positive("checks.interval", c.Interval)
	if c.Interval > 0 && c.Interval.D() < time.Second {
		v.fail("checks.interval", "%s is shorter than 1s", c.Interval)
	}
	seen := map[int]bool{}
	for i, p := range c.Ports {
		if p < 1 || p > 65535 {
			v.fail("checks.ports", "element %d: port %d is not in 1..65535", i+1, p)
		} else if seen[p] {
			v.fail("checks.ports", "element %d: port %d is listed twice", i+1, p)
		}
		seen[p] = true
	}
	for i, u := range c.Upstreams {
		if path, ok := strings.CutPrefix(u, "unix:"); ok {
			if !filepath.IsAbs(path) {
				v.fail("checks.upstreams", "element %d: %q: the socket path must be absolute", i+1, u)
			}
			continue
		}
		if err := checkHostPort(u); err != nil {
			v.fail("checks.upstreams", "element %d: %q is neither \"unix:/path\" nor host:port: %v", i+1, u, err)
		}
	}
}

func (v *validator) positive(key string, d Duration) {
	if d <= 0 {
		v.fail(key, "%s must be positive", d)
	}
}

// absolute checks that p is an absolute path; empty passes unless required.
func (v *validator) absolute(key, p string, required bool) {
	switch {
	case p == "" && required:
		v.fail(key, "must be set to an absolute path")
	case p != "" && !filepath.IsAbs(p):
		v.fail(key, "%q is not an absolute path", p)
	}
}

func (v *validator) hostPort(key, s string) {
	if err := checkHostPort(s); err != nil {
		v.fail(key, "%q is not host:port: %v", s, err)
	}
}

func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not in 1..65535", port)
	}
	return nil
}

var (
	labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	sinkName  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)
)

// Validate checks one sink alone, with the checks Config.Validate applies
// to each [[sinks]] table; errors name the sink by its Identity.
func (s Sink) Validate() error {
	v := &validator{c: &Config{}}
	v.sink("sink "+s.Identity(), &s)
	return joinByLine(v.errs)
}

var facilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

// sink checks one sink: its type, that it sets only keys of that type, and
// the values of those keys.
func (v *validator) sink(prefix string, s *Sink) {
	key := func(k string) string { return prefix + "." + k }
	allowed, ok := SinkKeys(s.Type)
	if !ok {
		if s.Type == "" {
			v.fail(prefix, "missing type (%s)", sinkTypes)
		} else {
			v.fail(key("type"), "%q is not %s", s.Type, sinkTypes)
		}
		return
	}
	// A key of another type is set when its value differs from this type's
	// default: that catches both file keys and programmatic configs.
	def := DefaultSink(s.Type)
	rv, dv := reflect.ValueOf(*s), reflect.ValueOf(def)
	for f := 0; f < rv.NumField(); f++ {
		tag := rv.Type().Field(f).Tag.Get("toml")
		if slices.Contains(commonSinkKeys, tag) || slices.Contains(allowed, tag) {
			continue
		}
		if !reflect.DeepEqual(rv.Field(f).Interface(), dv.Field(f).Interface()) {
			v.failAs(ErrUnknownKey, key(tag), "not a key of a %s sink (it takes %s)", s.Type, strings.Join(append(allowed, commonSinkKeys[1:]...), ", "))
		}
	}
	if s.Name != "" && !sinkName.MatchString(s.Name) {
		v.fail(key("name"), "%q is not a sink name (letters, digits, '.', '_' and '-', at most 64, not starting with a dot or dash)", s.Name)
	}
	if s.Timeout <= 0 {
		v.fail(key("timeout"), "%s must be positive", s.Timeout)
	}
	if s.BatchSize < 1 {
		v.fail(key("batch_size"), "%d must be at least 1", s.BatchSize)
	}
	if s.BatchWait < 0 {
		v.fail(key("batch_wait"), "%s is negative", s.BatchWait)
	}
	if s.RetryMax < 0 {
		v.fail(key("retry_max"), "%s is negative", s.RetryMax)
	}
	switch s.Type {
	case "file":
		v.absolute(key("path"), s.Path, true)
		if s.MaxFiles < 0 {
			v.fail(key("max_files"), "%d is negative", s.MaxFiles)
		}
	case "syslog":
		v.syslog(key, s)
	case "loki", "elasticsearch", "http", "alertmanager", "otlp":
		v.httpURL(key("url"), s.URL)
		for name := range s.Headers {
			if name == "" || strings.ContainsAny(name, " \t\r\n:") {
				v.fail(key("headers"), "%q is not a header name", name)
			}
		}
		for name := range s.Labels {
			if !labelName.MatchString(name) {
				v.fail(key("labels"), "%q is not a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)", name)
			}
		}
		if (s.Username == "") != (s.Password == "") {
			v.fail(key("username"), "username and password go together")
		}
		if s.Type == "elasticsearch" {
			if s.Index == "" {
				v.fail(key("index"), "must not be empty")
			}
			if s.APIKey != "" && s.Username != "" {
				v.fail(key("api_key"), "set api_key or username/password, not both")
			}
		}
	}
}

func (v *validator) syslog(key func(string) string, s *Sink) {
	if s.Address == "" {
		v.fail(key("address"), "must be set: udp://host:514, tcp://host:601 or tls://host:6514")
	} else if u, err := url.Parse(s.Address); err != nil || u.Host == "" {
		v.fail(key("address"), "%q is not udp://host:port, tcp://host:port or tls://host:port", s.Address)
	} else {
		switch u.Scheme {
		case "udp", "tcp", "tls":
			if err := checkHostPort(u.Host); err != nil {
				v.fail(key("address"), "%q: %v", s.Address, err)
			}
		default:
			v.fail(key("address"), "scheme %q is not udp, tcp or tls", u.Scheme)
		}
		if u.Scheme != "tls" {
			for _, f := range []struct{ k, v string }{{"ca_file", s.CAFile}, {"cert_file", s.CertFile}, {"key_file", s.KeyFile}, {"server_name", s.ServerName}} {
				if f.v != "" {
					v.fail(key(f.k), "applies only to tls:// addresses")
				}
			}
		}
	}
	v.absolute(key("ca_file"), s.CAFile, false)
	v.absolute(key("cert_file"), s.CertFile, false)
	v.absolute(key("key_file"), s.KeyFile, false)
	if (s.CertFile == "") != (s.KeyFile == "") {
		v.fail(key("cert_file"), "cert_file and key_file go together")
	}
	if !slices.Contains(facilities, s.Facility) {
		v.fail(key("facility"), "%q is not a syslog facility (%s)", s.Facility, strings.Join(facilities, ", "))
	}
	if s.MaxMessageSize < 480 {
		v.fail(key("max_message_size"), "%s is below 480 bytes, the smallest message RFC 5424 lets a receiver accept", s.MaxMessageSize)
	}
	if s.AppName == "" || len(s.AppName) > 48 || strings.ContainsAny(s.AppName, " \t") {
		v.fail(key("app_name"), "%q is not an RFC 5424 APP-NAME (1-48 printable characters, no spaces)", s.AppName)
	}
}

func (v *validator) httpURL(key, s string) {
	if s == "" {
		v.fail(key, "must be set to an http:// or https:// URL")
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		v.fail(key, "%q is not a URL: %v", s, err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		v.fail(key, "scheme %q is not http or https", u.Scheme)
	} else if u.Host == "" {
		v.fail(key, "%q has no host", s)
	}
}
