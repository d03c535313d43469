package checks

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// Proc names the process that owns a socket.
type Proc struct {
	PID  int32  `json:"pid"`
	Name string `json:"name"`
}

// ListenerContext is what the words of a failing listener check depend on:
// which web server's configuration listens on the port, and which web
// servers run at all.
type ListenerContext struct {
	// Configured are the listen directives for this port; empty when the
	// port comes from [checks] ports or --ports only.
	Configured []WebPort
	// Running are the web server processes (nginx, apache2, httpd), one
	// per name; nil when unknown.
	Running []Proc
	// Override names where the port list came from when it was not
	// derived ("[checks] ports", "--ports"); "" when derived.
	Override string
}

// ListenerCheck says whether Cloudflare can connect to port: pass when a
// socket listens on a wildcard or a non-loopback address, fail (521) when
// nothing listens or only loopback does. owners may be nil or partial (not
// root): the process is then omitted. The fix fits the situation: a web
// server that runs but not on this port is told what to change, not to
// start.
func ListenerCheck(port uint16, socks []upstream.TCPListener, owners map[uint64]Proc, lc ListenerContext) Check {
	c := newCheck(fmt.Sprintf("listener.%d", port))
	var addrs []string
	var procs []Proc
	public := false
	for _, s := range socks {
		if s.Addr.Port() != port {
			continue
		}
		a := s.Addr.Addr().Unmap()
		addrs = append(addrs, netip.AddrPortFrom(a, port).String())
		if !a.IsLoopback() {
			public = true
		}
		if p, ok := owners[s.Inode]; ok && !slices.Contains(procs, p) {
			procs = append(procs, p)
		}
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	c.Details["addresses"] = addrs
	if len(procs) > 0 {
		c.Details["processes"] = procs
	}
	if len(lc.Configured) > 0 {
		c.Details["configured"] = lc.Configured
	}
	who := ""
	if len(procs) > 0 {
		who = fmt.Sprintf("%s (pid %d) ", procs[0].Name, procs[0].PID)
	}
	switch {
	case len(addrs) == 0:
		c.Status = Fail
		c.Cause = correlate.CauseListenerDown
		c.Summary, c.Fix = nothingListens(port, socks, owners, lc)
	case !public:
		c.Status = Fail
		c.Cause = correlate.CauseListenerDown
		c.Summary = fmt.Sprintf("%slistens on port %d only on %s: Cloudflare cannot reach it (521)", who, port, strings.Join(addrs, ", "))
		c.Fix = []string{
			fmt.Sprintf("grep -rn 'listen.*127.0.0.1:%d\\|listen.*\\[::1\\]:%d' /etc/nginx /etc/apache2 /etc/httpd 2>/dev/null", port, port),
			fmt.Sprintf("# change it to 'listen %d;' (nginx) or 'Listen %d' (apache), then: nginx -t && systemctl reload nginx", port, port),
		}
	default:
		c.Status = Pass
		c.Summary = fmt.Sprintf("%slistens on %s", who, strings.Join(addrs, ", "))
	}
	return c
}

// nothingListens words the failure of a port nobody listens on.
func nothingListens(port uint16, socks []upstream.TCPListener, owners map[uint64]Proc, lc ListenerContext) (string, []string) {
	head := fmt.Sprintf("nothing listens on port %d: Cloudflare answers 521 (connection refused)", port)
	proc, running := Proc{}, len(lc.Running) > 0
	if running {
		proc = lc.Running[0]
	}
	if len(lc.Configured) > 0 {
		proc, running = Proc{}, false
		for _, p := range lc.Running {
			if p.Name == lc.Configured[0].Server {
				proc, running = p, true
			}
		}
	}
	if !running {
		unit := "nginx   # or apache2, whichever serves the site"
		why := "no web server is running"
		if len(lc.Configured) > 0 {
			unit = lc.Configured[0].Server
			why = fmt.Sprintf("%s, whose configuration listens on it (%s), is not running", unit, lc.Configured[0].Where)
		}
		name, _, _ := strings.Cut(unit, " ")
		return head + "; " + why, []string{
			"systemctl start " + unit,
			fmt.Sprintf("journalctl -u %s -n 50 --no-pager   # why it stopped", name),
		}
	}
	run := proc.Name
	what := fmt.Sprintf("%s is running (pid %d)", run, proc.PID)
	if l := publicListeners(socks, owners); l != "" {
		what += " and the host listens on " + l
	}
	ctl := reloadCommand(run)
	if len(lc.Configured) > 0 {
		w := lc.Configured[0]
		return fmt.Sprintf("%s; %s, but not on port %d although %s says `%s`: the running server has not loaded that configuration (or failed to)",
				head, what, port, w.Where, w.Directive),
			[]string{ctl + "   # load the configuration that listens on " + fmt.Sprint(port) + "; read the error if it fails"}
	}
	from := lc.Override
	if from == "" {
		from = "the port list"
	}
	return fmt.Sprintf("%s; %s, but no web server configuration listens on port %d (it is checked because %s names it)", head, what, port, from),
		[]string{
			fmt.Sprintf("# to serve port %d: add %s (nginx) or `Listen %d` and a <VirtualHost *:%d> (apache), then: %s", port, nginxListen(port), port, port, ctl),
			fmt.Sprintf("# if the site does not serve port %d (e.g. HTTP only, Cloudflare SSL mode Flexible): remove %d from %s", port, port, from),
		}
}

// publicListeners lists the non-loopback TCP listeners, with their owners
// where known: "0.0.0.0:80 (nginx), [::]:80 (nginx)".
func publicListeners(socks []upstream.TCPListener, owners map[uint64]Proc) string {
	var out []string
	for _, s := range socks {
		a := s.Addr.Addr().Unmap()
		if a.IsLoopback() {
			continue
		}
		t := netip.AddrPortFrom(a, s.Addr.Port()).String()
		if p, ok := owners[s.Inode]; ok && p.Name != "" {
			t += " (" + p.Name + ")"
		}
		out = append(out, t)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 8 {
		out = append(out[:8], "…")
	}
	return strings.Join(out, ", ")
}

// nginxListen is the listen directive that serves port: with TLS on the
// ports Cloudflare connects to over HTTPS.
func nginxListen(port uint16) string {
	switch port {
	case 443, 2053, 2083, 2087, 2096, 8443:
		return fmt.Sprintf("`listen %d ssl;` with ssl_certificate", port)
	}
	return fmt.Sprintf("`listen %d;`", port)
}

func reloadCommand(server string) string {
	switch server {
	case "apache2":
		return "apache2ctl configtest && systemctl reload apache2"
	case "httpd":
		return "httpd -t && systemctl reload httpd"
	}
	return "nginx -t && systemctl reload nginx"
}
