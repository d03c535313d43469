package sink

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Sink types, the `type` key of a [[sinks]] table.
const (
	TypeStdout        = "stdout"
	TypeFile          = "file"
	TypeSyslog        = "syslog"
	TypeLoki          = "loki"
	TypeElasticsearch = "elasticsearch"
	TypeHTTP          = "http"
)

// Config is one [[sinks]] table in plain Go types. The agent maps its TOML
// config onto it; zero values take the defaults documented per field.
type Config struct {
	Name string // metric label and spool directory name; default: Type
	Type string // stdout | file | syslog | loki | elasticsearch | http

	// file
	Path     string // findings file
	MaxSize  int64  // rotate when the file would exceed this many bytes; 0: 100 MiB
	MaxFiles int    // rotated files kept (path.1 … path.N); 0: 5

	// syslog
	Address            string // udp://host:port | tcp://host:port | tls://host:port
	CAFile             string // PEM CA bundle for tls:// (default: system roots)
	CertFile, KeyFile  string // client certificate for tls://
	ServerName         string // TLS name to verify; default: the host of Address
	InsecureSkipVerify bool   // never default; logged as a warning when set
	Facility           string // syslog facility name; default "daemon"
	AppName            string // APP-NAME; default "origin-agent"
	MaxMessageSize     int    // UDP datagram limit in bytes; 0: 8192 (rsyslog's default maxMessageSize)

	// loki, elasticsearch, http
	URL      string
	Tenant   string            // loki: X-Scope-OrgID
	Headers  map[string]string // extra request headers
	Labels   map[string]string // loki: static labels added to host/cause/severity
	Gzip     bool              // Content-Encoding: gzip request bodies
	Index    string            // elasticsearch: index or data stream; default "logs-origin_agent.findings-default"
	Username string            // basic auth (elasticsearch, loki, http)
	Password string
	APIKey   string // elasticsearch: Authorization: ApiKey <APIKey>

	// delivery (network sinks)
	BatchSize     int           // findings per Send; 0: 100
	BatchWait     time.Duration // wait this long for a batch to fill; 0: 200ms
	Timeout       time.Duration // per Send; 0: 10s
	RetryMax      time.Duration // longest backoff between retries; 0: 30s (retries never stop)
	SpoolMaxBytes int64         // spool bound, oldest dropped first; 0: 64 MiB

	Redact RedactConfig
}

// RedactConfig controls the Redactor. The zero value redacts.
type RedactConfig struct {
	Disabled    bool     // ship evidence lines unredacted
	ExtraParams []string // query/form parameter names whose values are redacted everywhere in a line
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = c.Type
	}
	if c.MaxSize == 0 {
		c.MaxSize = 100 << 20
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = 5
	}
	if c.Facility == "" {
		c.Facility = "daemon"
	}
	if c.AppName == "" {
		c.AppName = "origin-agent"
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = 8192
	}
	if c.Index == "" {
		c.Index = "logs-origin_agent.findings-default"
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.BatchWait == 0 {
		c.BatchWait = 200 * time.Millisecond
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.SpoolMaxBytes == 0 {
		c.SpoolMaxBytes = 64 << 20
	}
	return c
}

// WithDefaults returns cfg with every zero value replaced by its default,
// for callers that size spools and deliverers from it.
func (c Config) WithDefaults() Config { return c.withDefaults() }

// Spooled reports whether the sink is a network sink that should get a spool
// and a Deliverer (stdout and file are local and synchronous).
func (c Config) Spooled() bool {
	return c.Type != TypeStdout && c.Type != TypeFile
}

// Validate checks cfg without touching the system; every problem is named
// with its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("sink %q: %s: %s", c.Name, key, fmt.Sprintf(format, a...)))
	}
	switch c.Type {
	case TypeStdout:
	case TypeFile:
		if c.Path == "" {
			bad("path", "required for type file")
		}
	case TypeSyslog:
		if _, _, err := splitAddress(c.Address); err != nil {
			bad("address", "%v", err)
		}
		if _, ok := facilities[c.Facility]; !ok {
			bad("facility", "unknown facility %q", c.Facility)
		}
		if (c.CertFile == "") != (c.KeyFile == "") {
			bad("cert_file", "cert_file and key_file go together")
		}
	case TypeLoki, TypeElasticsearch, TypeHTTP:
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url", "want an http:// or https:// URL, got %q", c.URL)
		}
	default:
		bad("type", "unknown type %q (want stdout, file, syslog, loki, elasticsearch or http)", c.Type)
	}
	if c.MaxFiles < 0 {
		bad("max_files", "must not be negative")
	}
	if c.BatchSize < 0 {
		bad("batch_size", "must not be negative")
	}
	if c.SpoolMaxBytes < 0 {
		bad("spool_max_bytes", "must not be negative")
	}
	return errors.Join(errs...)
}

// splitAddress splits "udp://host:port" into network and host:port.
func splitAddress(addr string) (network, hostport string, err error) {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("want udp://host:port, tcp://host:port or tls://host:port, got %q", addr)
	}
	switch scheme {
	case "udp", "tcp", "tls":
	default:
		return "", "", fmt.Errorf("unknown scheme %q in %q (want udp, tcp or tls)", scheme, addr)
	}
	if !strings.Contains(rest, ":") {
		return "", "", fmt.Errorf("address %q has no port", addr)
	}
	return scheme, rest, nil
}
