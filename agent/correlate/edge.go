package correlate

import (
	"net/netip"
	"strings"

	"github.com/origin-agent/origin-agent/firewall"
	"github.com/origin-agent/origin-agent/parsers"
)

// edgeRanges are Cloudflare's address ranges (the embedded list).
type edgeRanges []netip.Prefix

func cloudflareRanges() edgeRanges {
	r, err := firewall.Embedded()
	if err != nil {
		return nil
	}
	return r.All()
}

func (e edgeRanges) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range e {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// crashSignal reports whether a process that died on signal sig crashed
// (or was killed) rather than being told to stop.
func crashSignal(sig int) bool {
	switch sig {
	case 4, 5, 6, 7, 8, 9, 11: // SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGSEGV
		return true
	}
	return false
}

// webServerProcess reports whether a kernel process name is the web server
// itself (whose crash is web_server_crash, not upstream_crash).
func webServerProcess(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "nginx") || strings.HasPrefix(n, "apache") || strings.HasPrefix(n, "httpd")
}

// anchorOf says whether a line is a failure in itself, one that leaves no
// gateway status in the access log, and which family it opens an incident
// of: a web server worker that died with requests in flight (they got no
// answer, Cloudflare shows 520), or a web server out of connections
// (connections closed unanswered).
func anchorOf(ev *parsers.Event) (family, bool) {
	switch ev.Signal {
	case parsers.SigServerChildSignal:
		if len(ev.Code) > 0 && ev.ExitSig == 9 {
			// apache SIGKILLs children itself that outlive a stop or
			// graceful restart (AH00045): not a crash
			return famNone, false
		}
		return famCrash, crashSignal(ev.ExitSig)
	case parsers.SigSegfault:
		return famCrash, webServerProcess(string(ev.Process))
	case parsers.SigWorkerConnections, parsers.SigTooManyOpenFiles:
		return famConns, ev.Kind == parsers.KindProxy
	}
	return famNone, false
}

// normUpstream writes an upstream address as an admin would:
// "unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000", "http://127.0.0.1:8000"
// (nginx logs "fastcgi://unix:/run/php/php8.2-fpm.sock:" and
// "http://127.0.0.1:8000/path?query"; apache "/run/php/x.sock").
func normUpstream(u string) string {
	if u == "" || u == "-" {
		return ""
	}
	for _, p := range []string{"fastcgi://", "uwsgi://", "scgi://", "fcgi://"} {
		if strings.HasPrefix(u, p) {
			u = u[len(p):]
			break
		}
	}
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			u = u[:i+3+j]
		}
	}
	if strings.HasPrefix(u, "unix:") {
		u = strings.TrimSuffix(u, ":")
	} else if strings.HasPrefix(u, "/") {
		u = "unix:" + u
	}
	if len(u) > 200 {
		u = u[:200]
	}
	return u
}

// httpUpstream reports whether an upstream address is an HTTP app server
// (proxy_pass to gunicorn, node…), which has no php-fpm log to ask.
func httpUpstream(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// PoolListenKeys are the upstream addresses (as normUpstream writes them)
// under which a proxy reaches a php-fpm pool that has `listen = listen`:
// "/run/php/x.sock" → "unix:/run/php/x.sock"; "9000" → "127.0.0.1:9000"
// (php-fpm listens on every address, proxies name loopback).
func PoolListenKeys(listen string) []string {
	switch {
	case listen == "":
		return nil
	case strings.HasPrefix(listen, "/"):
		return []string{"unix:" + listen}
	case !strings.Contains(listen, ":"):
		return []string{"127.0.0.1:" + listen, "[::1]:" + listen}
	case strings.HasPrefix(listen, "0.0.0.0:"), strings.HasPrefix(listen, "[::]:"):
		port := listen[strings.LastIndexByte(listen, ':')+1:]
		return []string{"127.0.0.1:" + port, "[::1]:" + port}
	}
	return []string{listen}
}
