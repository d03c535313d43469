package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string
// ("60s", "5m", "1h30m").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders d compactly: "60s", "5m", "1h", "1m30s", "250ms".
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0s"
	case td%time.Hour == 0:
		return strconv.FormatInt(int64(td/time.Hour), 10) + "h"
	case td%time.Minute == 0 && td < time.Hour:
		return strconv.FormatInt(int64(td/time.Minute), 10) + "m"
	case td%time.Second == 0 && td < time.Minute:
		return strconv.FormatInt(int64(td/time.Second), 10) + "s"
	}
	return td.String()
}

// ByteSize is a size in bytes, written in TOML as an integer or a string
// with a unit: "512K", "100M", "1G", "100MB", "1GiB" (all powers of 1024).
type ByteSize int64

// parseByteSize parses the string form of a ByteSize.
func parseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	u := strings.ToUpper(t)
	u = strings.TrimSuffix(strings.TrimSuffix(u, "IB"), "B")
	mult := int64(1)
	if u != "" {
		switch u[len(u)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			u = strings.TrimSpace(u[:len(u)-1])
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size like 100M or 1G", s)
	}
	return ByteSize(n * mult), nil
}

// String renders the size with the largest exact unit: "100M", "1G", "1500".
func (b ByteSize) String() string {
	n := int64(b)
	for _, u := range []struct {
		s string
		m int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n != 0 && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}

// Sink is one [[sinks]] table. Type decides which keys apply (SinkKeys);
// a key of another type is an error.
//
// This is the one model of a sink: package sink builds sinks from it, its
// defaults are DefaultSink's and its checks Validate's.
type Sink struct {
	Type string `toml:"type"` // stdout | file | syslog | loki | elasticsearch | http | alertmanager | otlp

	// Name is the sink's stable identity: its spool directory, its metric
	// label, its name in logs. Default: Identity() — the type and a hash of
	// where it delivers.
	Name string `toml:"name"`

	// Common to every type.
	Timeout       Duration `toml:"timeout"`         // per delivery attempt
	BatchSize     int      `toml:"batch_size"`      // findings per request
	BatchWait     Duration `toml:"batch_wait"`      // longest wait to fill a batch
	RetryMax      Duration `toml:"retry_max"`       // longest backoff between retries (exponential with jitter; retries never stop while the agent runs)
	SpoolMaxBytes ByteSize `toml:"spool_max_bytes"` // disk spool bound; the oldest findings go first when full

	// file
	Path     string   `toml:"path"`      // absolute
	MaxSize  ByteSize `toml:"max_size"`  // rotate when larger; 0 = never
	MaxFiles int      `toml:"max_files"` // rotated files kept

	// syslog (RFC 5424)
	Address    string `toml:"address"`     // udp://host:514 | tcp://host:601 | tls://host:6514
	CAFile     string `toml:"ca_file"`     // tls: CA bundle; default the system pool
	CertFile   string `toml:"cert_file"`   // tls: client certificate
	KeyFile    string `toml:"key_file"`    // tls: its key
	ServerName string `toml:"server_name"` // tls: name to verify; default the address's host
	Facility   string `toml:"facility"`    // daemon, local0 … local7, …
	AppName    string `toml:"app_name"`
	// MaxMessageSize bounds a UDP datagram (RFC 5424 over UDP); longer
	// messages are cut at a character boundary outside the structured data.
	MaxMessageSize ByteSize `toml:"max_message_size"`

	// loki, elasticsearch, http
	URL      string            `toml:"url"`      // http:// or https://
	Headers  map[string]string `toml:"headers"`  // extra request headers (loki, elasticsearch, http)
	Tenant   string            `toml:"tenant"`   // loki: X-Scope-OrgID
	Labels   map[string]string `toml:"labels"`   // loki: stream labels besides host and cause
	Gzip     bool              `toml:"gzip"`     // loki: gzip the push body
	Index    string            `toml:"index"`    // elasticsearch: index or data stream
	Username string            `toml:"username"` // basic auth (elasticsearch, loki, http)
	Password string            `toml:"password"`
	APIKey   string            `toml:"api_key"` // elasticsearch: "Authorization: ApiKey …"
}

// commonSinkKeys apply to every sink type.
var commonSinkKeys = []string{"type", "name", "timeout", "batch_size", "batch_wait", "retry_max", "spool_max_bytes"}

// SinkKeys returns the keys a sink of type typ accepts besides the common
// ones, or nil, false for an unknown type.
func SinkKeys(typ string) ([]string, bool) {
	switch typ {
	case "stdout":
		return []string{}, true
	case "file":
		return []string{"path", "max_size", "max_files"}, true
	case "syslog":
		return []string{"address", "ca_file", "cert_file", "key_file", "server_name", "facility", "app_name", "max_message_size"}, true
	case "loki":
		return []string{"url", "tenant", "headers", "labels", "gzip", "username", "password"}, true
	case "elasticsearch":
		return []string{"url", "index", "username", "password", "api_key", "headers", "gzip"}, true
	case "http":
		return []string{"url", "headers", "gzip", "username", "password"}, true
	case "alertmanager":
		return []string{"url", "headers", "labels", "username", "password"}, true
	case "otlp":
		return []string{"url", "headers", "gzip", "username", "password"}, true
	}
	return nil, false
}

// sinkTypes lists the sink types for messages.
const sinkTypes = "stdout, file, syslog, loki, elasticsearch, http, alertmanager or otlp"

// DefaultSink returns a sink of type typ with every default filled in.
func DefaultSink(typ string) Sink {
	s := Sink{Type: typ, Timeout: Duration(10 * time.Second), BatchSize: 100, BatchWait: Duration(time.Second),
		RetryMax: Duration(30 * time.Second), SpoolMaxBytes: 64 << 20}
	switch typ {
	case "stdout":
		s.BatchSize, s.BatchWait = 1, 0
	case "file":
		s.MaxSize, s.MaxFiles = 100<<20, 5
		s.BatchSize, s.BatchWait = 1, 0
	case "syslog":
		s.Facility, s.AppName = "daemon", "origin-agent"
		s.MaxMessageSize = 8192 // rsyslog's default maxMessageSize
		s.BatchSize, s.BatchWait = 1, 0
	case "elasticsearch":
		s.Index = "origin-agent-findings"
	}
	return s
}

// Identity is the sink's stable name: Name when set, else the type and a
// short hash of where it delivers — the file's path, the syslog address, or
// an HTTP sink's scheme and host (with Loki's tenant and Elasticsearch's
// index). Spools are keyed by it, so reordering or inserting [[sinks]]
// tables never hands one sink's backlog to another, while fixing a wrong
// URL path keeps the backlog of that sink and delivers it.
func (s Sink) Identity() string {
	if s.Name != "" {
		return s.Name
	}
	var dest string
	switch s.Type {
	case "stdout":
		return "stdout"
	case "file":
		dest = s.Path
	case "syslog":
		dest = s.Address
	default:
		dest = s.URL
		if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
			dest = u.Scheme + "://" + u.Host
		}
		dest += "\x00" + s.Tenant + "\x00" + s.Index
	}
	sum := sha256.Sum256([]byte(dest))
	return s.Type + "-" + hex.EncodeToString(sum[:4])
}

// Error is one configuration problem, located by file, line and key.
type Error struct {
	File string // "" for a configuration not read from a file
	Line int    // 0 when unknown
	Key  string // dotted key: "sources.nginx_access", "sinks.1.url"
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinels wrapped by Error, for errors.Is.
var (
	ErrSyntax     = errors.New("TOML syntax error")
	ErrUnknownKey = errors.New("unknown key")
	ErrType       = errors.New("wrong type")
	ErrValue      = errors.New("bad value")
)
