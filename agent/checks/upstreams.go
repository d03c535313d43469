package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// UpstreamCheck says whether target (an upstream as the web server's
// configuration names it) accepts connections.
//
// A unix socket is judged by the kernel's table of listening sockets
// (/proc/net/unix, readable by any user): php-fpm's socket is
// `srw-rw---- www-data www-data` on Debian, so connect() from the service
// user fails with EACCES whether php-fpm is up or not. ls is that table; nil
// when it could not be read, and only then is the socket probed, where
// EACCES means "cannot tell" (a health result), never upstream_down.
// TCP upstreams are probed; EACCES there (SELinux) is answered from the
// TCP listener table for local addresses, else it is a health result too.
func UpstreamCheck(ctx context.Context, target string, ls *upstream.Listeners, probe func(context.Context, string) upstream.Result) Check {
	id := "upstream." + target
	network, addr, err := upstream.ParseTarget(target)
	if err != nil {
		return Skipped(id, err.Error())
	}
	if network == "unix" && ls != nil {
		if ls.ListensUnix(addr) {
			c := Passed(id, fmt.Sprintf("a process listens on %s (/proc/net/unix)", addr))
			c.Details["via"] = "/proc/net/unix"
			return c
		}
		return upstreamDown(id, target, addr, unixWhy(addr), "/proc/net/unix")
	}
	r := probe(ctx, target)
	switch {
	case r.OK, r.Reason == upstream.ReasonBusy: // a full backlog is exhaustion, not a dead upstream
		c := Passed(id, fmt.Sprintf("%s accepts connections", target))
		c.Details["via"] = "connect"
		return c
	case r.Reason == upstream.ReasonPermission:
		if network == "tcp" && ls != nil {
			if ap, err := netip.ParseAddrPort(strings.Replace(addr, "localhost:", "127.0.0.1:", 1)); err == nil {
				if ls.ListensTCP(ap) {
					return Passed(id, fmt.Sprintf("%s listens (/proc/net/tcp; connect() was denied: %s)", target, r.Error))
				}
				return upstreamDown(id, target, addr, "nothing listens on it", "/proc/net/tcp")
			}
		}
		return cannotProbe(id, target, network, addr, r.Error)
	}
	return upstreamDown(id, target, addr, string(r.Reason)+": "+r.Error, "connect")
}

// unixWhy says why a socket path has no listener, from the file system.
func unixWhy(addr string) string {
	if strings.HasPrefix(addr, "@") {
		return "no process listens on the abstract socket"
	}
	st, err := os.Stat(addr)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "the socket file does not exist"
	case err != nil:
		return "no process listens on it"
	case st.Mode().Type() != fs.ModeSocket:
		return "the path is not a socket"
	}
	return "a stale socket file: no process listens on it"
}

var fpmSock = regexp.MustCompile(`/php(\d+\.\d+)-fpm\.sock$`)

// fpmUnit guesses the systemd unit of the php-fpm behind a socket path.
func fpmUnit(addr string) string {
	if m := fpmSock.FindStringSubmatch(addr); m != nil {
		return "php" + m[1] + "-fpm"
	}
	// Otherwise the php-fpm unit installed, when there is exactly one.
	var units []string
	for _, dir := range []string{"/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system"} {
		m, _ := filepath.Glob(filepath.Join(dir, "php*-fpm.service"))
		for _, u := range m {
			if u := strings.TrimSuffix(filepath.Base(u), ".service"); !slices.Contains(units, u) {
				units = append(units, u)
			}
		}
	}
	if len(units) == 1 && (strings.Contains(addr, "php") || strings.HasSuffix(addr, ":9000")) {
		return units[0]
	}
	if strings.Contains(addr, "php") || strings.HasSuffix(addr, ":9000") {
		return "php-fpm"
	}
	return ""
}

func upstreamDown(id, target, addr, why, via string) Check {
	c := newCheck(id)
	c.Status, c.Cause = Fail, correlate.CauseUpstreamDown
	c.Details["via"] = via
	c.Summary = fmt.Sprintf("upstream %s does not accept connections: %s (%s)", target, why, via)
	if u := fpmUnit(addr); u != "" {
		c.Fix = []string{"systemctl start " + u, fmt.Sprintf("journalctl -u %s -n 50 --no-pager   # why it stopped", u)}
	} else {
		c.Fix = []string{"# start the service behind " + target + " and find out why it stopped (journalctl -u UNIT)"}
	}
	c.Fix = append(c.Fix, "# and check that its `listen` matches the proxy's target "+target)
	return c
}

// cannotProbe is the health result of an upstream the agent may not
// connect to, when no listener table could tell instead.
func cannotProbe(id, target, network, addr, err string) Check {
	c := newCheck("health." + id)
	c.Status, c.Cause = Warn, CauseCannotObserve
	c.Details["target"] = target
	c.Summary = fmt.Sprintf("cannot tell whether upstream %s is up: connect() is denied (%s) and the listener table is not readable", target, err)
	if network == "unix" {
		user := serviceUser()
		c.Fix = []string{
			fmt.Sprintf("# let %s connect to the socket: in the php-fpm pool that listens on %s set", user, addr),
			fmt.Sprintf("listen.acl_users = www-data,%s", user),
			"systemctl reload " + orDefault(fpmUnit(addr), "php-fpm"),
		}
	} else {
		c.Fix = []string{"# SELinux denies the connection: allow it for the agent's domain, or check `ausearch -m avc -ts recent`"}
	}
	return c
}

// Upstreams is the daemon's upstream check.
type Upstreams struct {
	Targets  []string
	ProcRoot string                                        // default /proc
	Probe    func(context.Context, string) upstream.Result // default upstream.Probe
	Timeout  time.Duration                                 // per probe; default 2s
}

func (u *Upstreams) Name() string { return "upstreams" }

func (u *Upstreams) Run(ctx context.Context) []Check {
	ls, err := upstream.ReadListeners(orDefault(u.ProcRoot, "/proc"))
	var lp *upstream.Listeners
	if err == nil {
		lp = &ls
	}
	probe := u.Probe
	if probe == nil {
		probe = upstream.Probe
	}
	timeout := u.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	var out []Check
	for _, t := range u.Targets {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		c := UpstreamCheck(pctx, t, lp, probe)
		cancel()
		out = append(out, c)
		if c.Cause != CauseCannotObserve {
			// The agent can tell again: a health finding for it resolves.
			out = append(out, Passed("health.upstream."+t, "the agent can tell whether "+t+" is up"))
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
