package correlate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/origin-agent/origin-agent/parsers"
)

// failed is the number of requests the access log shows failing: gateway
// statuses and the 499s of Cloudflare's timeout.
func (inc *incident) failed() int {
	return inc.statuses[502] + inc.statuses[503] + inc.statuses[504] + inc.statuses[499]
}

// webServerCrashRule: the web server's own worker (nginx) or child (apache)
// died. Its in-flight requests got no answer at all, so they left no access
// line; Cloudflare shows 520.
func webServerCrashRule(inc *incident) verdict {
	a := &inc.sig
	ev := pick(a, parsers.SigServerChildSignal, parsers.SigSegfault)
	if len(a.crashes) == 0 {
		return verdict{CauseWebServerCrash, 0.6, "a web server process crashed with requests in flight", crashFix(""), ev}
	}
	first := a.crashes[0]
	who := first.server + " worker process"
	if first.server == "apache" {
		who = "apache child"
	}
	what := fmt.Sprintf("%s %d exited on signal %d (%s)", who, first.pid, first.sig, sigName(first.sig))
	if n := len(a.crashes); n > 1 {
		what = fmt.Sprintf("%d web server processes died (first: %s)", n, what)
	}
	s := what + " with requests in flight: they got no response and left no access-log line (Cloudflare shows its visitors 520)"
	if inc.failed() > 0 {
		s += "; " + statusPhrase(inc)
	}
	return verdict{CauseWebServerCrash, 0.9, s, crashFix(first.server), ev}
}

func crashFix(server string) string {
	switch server {
	case "apache":
		return "An apache child crashed: with mod_php a PHP crash takes the apache child with it (move PHP to php-fpm), otherwise suspect a third-party module. " +
			"Get a core dump (`CoreDumpDirectory /var/tmp` in apache2.conf, `ulimit -c unlimited` / `LimitCORE=infinity` for the unit, then `coredumpctl`), and update apache and its modules."
	case "nginx":
		return "An nginx worker crashed: suspect a third-party or dynamic module (`nginx -V`, load_module lines) or a known bug of this nginx version. " +
			"Get a core dump (`worker_rlimit_core 500m;` and `working_directory /var/tmp;` in nginx.conf, `coredumpctl`), and update nginx and its modules."
	}
	return "A web server process crashed: get a core dump (`coredumpctl`), check third-party modules, and update the web server."
}

// cloudflareTimeoutRule: requests outlived Cloudflare's 100 s proxy read
// timeout. Cloudflare showed 524 and closed; nginx, whose own read timeout
// is longer, logged 499 after ≈100 s.
func cloudflareTimeoutRule(inc *incident) verdict {
	a := &inc.sig
	n := inc.statuses[499]
	conf := 0.8
	var also []string
	script, slowN := slowScript(a)
	if script != "" {
		conf += 0.1
		also = append(also, fmt.Sprintf("php-fpm logged %s executing too slow %d time(s)", script, slowN))
	}
	if a.clientClosed > 0 {
		conf += 0.05
		also = append(also, "nginx logged the client closing the connection while the upstream was still working")
	}
	if inc.cfRays > 0 || inc.fromEdge > 0 {
		conf += 0.05
	}
	if inc.cfRays > 0 {
		also = append(also, fmt.Sprintf("%d of them carried Cloudflare's CF-Ray", inc.cfRays))
	}
	if inc.fromEdge > 0 {
		also = append(also, fmt.Sprintf("%d came from Cloudflare's addresses", inc.fromEdge))
	}
	conf = min(conf, 0.95)
	where := ""
	if p := topCounts(inc.paths, 1); len(p) > 0 {
		where = " (most to " + p[0].Value + ")"
	}
	s := fmt.Sprintf("%d request%s%s ran past Cloudflare's 100 s proxy read timeout: Cloudflare gave up and showed its visitors 524, nginx logged 499 after ≈100 s",
		n, plural(n), where)
	if len(also) > 0 {
		s += "; " + strings.Join(also, "; ")
	}
	fix := "Cloudflare waits 100 s for the origin's answer (only Enterprise zones can raise it). "
	if script != "" {
		fix += "Make " + script + " answer within that (its stack is in the pool's slowlog), "
	} else {
		fix += "Find the slow requests (php-fpm `request_slowlog_timeout`, application logs) and make them answer within that, "
	}
	fix += "or run the long work in the background (a queue or cron, answer 202 and let the page poll), or serve such endpoints from a DNS-only (grey-cloud) hostname. " +
		"Set `fastcgi_read_timeout`/`proxy_read_timeout` (and php-fpm `request_terminate_timeout`) below 100 s so the origin stops the work itself and logs 504 instead of working on for nobody."
	ev := append(pick(a, parsers.SigClientClosed), pickSlow(a)...)
	return verdict{CauseCloudflareTimeout, conf, s, fix, ev}
}

// httpUpstreamCrashRule: an HTTP app server (proxy_pass to gunicorn, node…)
// closed connections before answering (a FIN: "upstream prematurely
// closed", or a reset) and, where it came back slowly, refused
// connections meanwhile: the app process died. There is no php-fpm log to
// ask, so nginx's lines are all there is.
func httpUpstreamCrashRule(c *Correlator, inc *incident) (verdict, bool) {
	a := &inc.sig
	closed := a.n[parsers.SigPrematurelyClosed] + a.n[parsers.SigResetByPeer]
	if closed == 0 {
		return verdict{}, false
	}
	up := topUpstream(a)
	if !httpUpstream(up) {
		return verdict{}, false
	}
	refused := a.n[parsers.SigConnectRefused]
	conf := 0.6
	s := fmt.Sprintf("the HTTP upstream %s closed %d connection(s) before answering (its process died or was killed)", up, closed)
	if refused > 0 {
		conf = 0.85
		s = fmt.Sprintf("the HTTP upstream %s closed %d connection(s) before answering, then refused %d connection(s) while it restarted: the app server's process died", up, closed, refused)
	}
	s += "; " + statusPhrase(inc)
	fix := "The application server behind " + up + " died mid-request: read its own log and `journalctl -u <its unit>` for a traceback, a worker timeout (gunicorn `--timeout`, which SIGKILLs slow workers) or a kill; " +
		"check the kernel log for an OOM kill or segfault; run it under systemd with `Restart=on-failure` and more than one worker so a restart does not refuse connections."
	if !c.kernelCovers(inc) {
		fix += " No kernel log was read for this period: add it to rule out the OOM killer."
	}
	ev := append(pick(a, parsers.SigPrematurelyClosed, parsers.SigResetByPeer), pick(a, parsers.SigConnectRefused)...)
	return verdict{CauseUpstreamCrash, conf, s, fix, ev}, true
}

// workerConnectionsValue is the worker_connections limit nginx named.
func workerConnectionsValue(a *agg) int {
	return a.connLimit
}

// scope says where inc happened: the sites and upstreams of its affected
// requests, the php-fpm pools that reported trouble or whose listen address
// is one of those upstreams, and its top paths.
func (c *Correlator) scope(inc *incident, paths []Count) Scope {
	sc := EmptyScope()
	for _, s := range topCounts(inc.sites, 10) {
		sc.Sites = append(sc.Sites, s.Value)
	}
	ups := inc.upstreams
	if len(ups) == 0 && inc.anchors < inc.gateways {
		// statuses matched to no proxy error: the proxy's errors around them
		ups = map[string]int{}
		for u, n := range inc.sig.upstreams {
			if nu := normUpstream(u); nu != "" {
				ups[nu] += n
			}
		}
	}
	pools := map[string]bool{}
	for _, u := range topCounts(ups, 10) {
		sc.Upstreams = append(sc.Upstreams, u.Value)
		if p, ok := c.cfg.Pools[u.Value]; ok && p != "" {
			pools[p] = true
		}
	}
	for p := range inc.sig.pools {
		pools[p] = true
	}
	for p := range pools {
		sc.Pools = append(sc.Pools, p)
	}
	sort.Strings(sc.Pools)
	for _, p := range paths {
		sc.Paths = append(sc.Paths, PathCount{Path: p.Value, Count: p.N})
	}
	return sc
}
