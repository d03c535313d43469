package sink

import (
	"fmt"
	"strings"

	"github.com/origin-agent/origin-agent/agent/config"
)

// Sink types, the `type` key of a [[sinks]] table.
const (
	TypeStdout        = "stdout"
	TypeFile          = "file"
	TypeSyslog        = "syslog"
	TypeLoki          = "loki"
	TypeElasticsearch = "elasticsearch"
	TypeHTTP          = "http"
	TypeAlertmanager  = "alertmanager"
	TypeOTLP          = "otlp"
)

// Config is one [[sinks]] table: the configuration package's Sink, the one
// model of a sink (its defaults are config.DefaultSink's, its checks
// config.Sink.Validate's). The alias keeps this package's signatures short.
type Config = config.Sink

// RedactConfig controls the Redactor. The zero value redacts.
type RedactConfig struct {
	Disabled    bool     // ship evidence lines unredacted
	ExtraParams []string // query/form parameter names whose values are redacted everywhere in a line
}

// Spooled reports whether a sink of cfg's type is a network sink that gets a
// spool and a Deliverer (stdout and file are local and synchronous).
func Spooled(cfg Config) bool {
	return cfg.Type != TypeStdout && cfg.Type != TypeFile
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
