package correlate

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/origin-agent/origin-agent/parsers"
)

// verdict is what a cause rule concludes.
type verdict struct {
	cause       Cause
	confidence  float64
	summary     string
	remediation string
	evidence    []Evidence
}

const maxEvidence = 10

// diagnose names the cause of inc as it stands now. The proxy's view of the
// failed requests (their family) picks the branch; php-fpm and kernel
// signals decide between causes the proxy cannot tell apart.
func (c *Correlator) diagnose(inc *incident) Incident {
	v := c.decide(inc)
	out := Incident{
		Start:       inc.start.UTC(),
		End:         inc.last.UTC(),
		Statuses:    map[string]int{"502": inc.statuses[502], "503": inc.statuses[503], "504": inc.statuses[504]},
		Cause:       v.cause,
		Confidence:  v.confidence,
		Summary:     v.summary,
		Remediation: v.remediation,
		Gateways:    inc.gateways,
		Hosts:       topCounts(inc.hosts, 5),
		Paths:       topCounts(inc.paths, 5),
	}
	if n := inc.statuses[499]; n > 0 {
		out.Statuses["499"] = n
	}
	out.EdgeStatus = EdgeStatusOf(v.cause, out.Statuses)
	if v.cause != CauseWebServerCrash && len(inc.sig.crashes) > 0 && inc.fams[famCrash] > 0 {
		// The web server's own worker died during another failure: its
		// in-flight requests got Cloudflare's 520 besides.
		out.EdgeStatus = append([]int{520}, out.EdgeStatus...)
		cr := inc.sig.crashes[0]
		out.Summary += fmt.Sprintf("; also %s process %d died on signal %d (%s) with requests in flight (520)", cr.server, cr.pid, cr.sig, sigName(cr.sig))
		ev := append(out.Evidence, pick(&inc.sig, parsers.SigServerChildSignal)...)
		sort.SliceStable(ev, func(i, j int) bool { return ev[i].Time.Before(ev[j].Time) })
		out.Evidence = dedupEvidence(ev)
	}
	out.Scope = c.scope(inc, out.Paths)
	if c.coverage.access {
		out.Requests = c.perSec.sum(inc.start, inc.last)
	}
	if out.Requests < inc.gateways-inc.pseudo {
		out.Requests = inc.gateways - inc.pseudo
	}
	ev := append([]Evidence(nil), v.evidence...)
	for _, e := range inc.gwEvidence {
		if len(ev) >= maxEvidence {
			break
		}
		ev = append(ev, e)
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].Time.Before(ev[j].Time) })
	out.Evidence = dedupEvidence(ev)
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", inc.start.UnixNano(), inc.firstText)
	out.ID = strconv.FormatUint(h.Sum64(), 16)
	return out
}

func dedupEvidence(ev []Evidence) []Evidence {
	out := ev[:0]
	seen := map[string]bool{}
	for _, e := range ev {
		k := e.Path + "\x00" + strconv.FormatInt(e.Line, 10) + "\x00" + strconv.FormatInt(e.Offset, 10)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// proxyView returns the family group that best describes the failed
// requests: the one most of them were matched to, or, when none could be
// matched (e.g. apache lines without the request), the most frequent proxy
// error around the incident.
func proxyView(inc *incident) family {
	var byGroup [famCount]int
	matched := 0
	for f, n := range inc.fams {
		if family(f) != famNone {
			byGroup[family(f).group()] += n
			matched += n
		}
	}
	if matched == 0 {
		for f, n := range inc.sig.proxyFam {
			if family(f) != famNone {
				byGroup[family(f).group()] += n
			}
		}
	}
	best, bestN := famNone, 0
	for f, n := range byGroup {
		if n > bestN {
			best, bestN = family(f), n
		}
	}
	// Mostly unmatched statuses are not explained by a handful of errors.
	if matched > 0 && inc.fams[famNone] > 4*matched {
		return famNone
	}
	return best
}

func (c *Correlator) decide(inc *incident) verdict {
	switch proxyView(inc) {
	case famCrash:
		return webServerCrashRule(inc)
	case famEdgeTimeout:
		return cloudflareTimeoutRule(inc)
	case famDown:
		if inc.sig.proxyFam[famDown] == 0 && inc.fams[famDown] == 0 {
			return noLiveUpstreamsRule(inc)
		}
		if v, ok := oomTookUpstreamDown(inc); ok {
			return v
		}
		if v, ok := httpUpstreamCrashRule(c, inc); ok {
			return v
		}
		return upstreamDownRule(c, inc)
	case famTimeout:
		if v, ok := poolExhaustedRule(inc); ok {
			return v
		}
		if v, ok := apacheMaxWorkersRule(inc); ok {
			return v
		}
		return upstreamTimeoutRule(c, inc)
	case famReset:
		return workerDiedRules(c, inc, 1.0)
	case famInvalid:
		// Apache reports a worker that died mid-request as a bad FastCGI header.
		if v, ok := workerDied(c, inc, 0.9); ok {
			return v
		}
		return invalidResponseRule(inc)
	case famHeaderBig:
		return headerTooBigRule(inc)
	case famPerm:
		return permissionDeniedRule(inc)
	case famConns:
		return workerConnectionsRule(inc)
	case famLimit:
		return rateLimitedRule(inc)
	}
	// No proxy error for these requests.
	if v, ok := workerDied(c, inc, 0.7); ok {
		return v
	}
	if v, ok := apacheMaxWorkersRule(inc); ok {
		return v
	}
	if v, ok := applicationErrorRule(c, inc); ok {
		return v
	}
	return unknownRule(c, inc)
}

// ---- rules, one per cause ----

func upstreamDownRule(c *Correlator, inc *incident) verdict {
	a := &inc.sig
	conf := 0.9
	ev := pick(a, parsers.SigConnectRefused, parsers.SigConnectNoSocket, parsers.SigApacheConnectFailed, parsers.SigApacheNoSocket)
	if a.fpmStopped {
		conf = 0.95
		ev = append(pick(a, parsers.SigFPMStopping), ev...)
	}
	up := topUpstream(a)
	what := "the upstream"
	if up != "" {
		what = up
	}
	how := "refused connections"
	if a.n[parsers.SigConnectNoSocket] > 0 || a.n[parsers.SigApacheNoSocket] > 0 {
		how = "was missing its socket (nothing listening)"
	}
	s := fmt.Sprintf("%s %s: %s", what, how, statusPhrase(inc))
	if a.fpmStopped {
		s = "php-fpm stopped and " + s
	}
	fix := "Start the upstream and find out why it stopped (`systemctl status php8.2-fpm`, `journalctl -u php8.2-fpm`); " +
		"check that the proxy's target (fastcgi_pass / proxy_pass / SetHandler) matches php-fpm's `listen`"
	if up != "" {
		fix += " (" + up + ")"
	}
	fix += "; consider `Restart=on-failure` for the upstream's systemd unit."
	return verdict{CauseUpstreamDown, conf, s, fix, ev}
}

// oomTookUpstreamDown: when the OOM killer took the upstream's master (or
// every worker), connections are refused afterwards; the refusal is the
// symptom and the OOM kill the cause.
func oomTookUpstreamDown(inc *incident) (verdict, bool) {
	a := &inc.sig
	for _, o := range a.ooms {
		if !upstreamProcess(o.process) || o.t.After(inc.last) {
			continue
		}
		s := fmt.Sprintf("%s %d was killed by the kernel OOM killer and the upstream stopped accepting connections; %s",
			nonEmpty(o.process, "process"), o.pid, statusPhrase(inc))
		fix := "Memory ran out: give the service more memory or lower pm.max_children / PHP's memory_limit so the pool fits, " +
			"and make the upstream restart by itself (`Restart=on-failure` in its systemd unit)."
		ev := append(pick(a, parsers.SigOOMKill, parsers.SigOOMConstraint), pick(a, parsers.SigConnectRefused, parsers.SigConnectNoSocket, parsers.SigApacheConnectFailed, parsers.SigApacheNoSocket)...)
		return verdict{CauseOOMKill, 0.8, s, fix, ev}, true
	}
	return verdict{}, false
}

func noLiveUpstreamsRule(inc *incident) verdict {
	a := &inc.sig
	return verdict{CauseNoLiveUpstreams, 0.85,
		fmt.Sprintf("nginx had no live server left in its upstream group: %s", statusPhrase(inc)),
		"Every server of the upstream group was marked failed (max_fails/fail_timeout): find why the backends failed just before (look for earlier connect/timeout errors), and make sure the group has a healthy server or a `backup`.",
		pick(a, parsers.SigNoLiveUpstreams)}
}

func poolExhaustedRule(inc *incident) (verdict, bool) {
	a := &inc.sig
	warned := a.n[parsers.SigFPMMaxChildren] > 0
	backlog := inc.fams[famPool] + a.proxyFam[famPool]
	if !warned && backlog == 0 {
		return verdict{}, false
	}
	conf := 0.9
	if !warned {
		conf = 0.75 // a full listen backlog without the pool's own warning (pm = static never warns)
	}
	pool := a.pool
	if pool == "" {
		pool = "www"
	}
	limit := "pm.max_children"
	if a.maxChild > 0 {
		limit = fmt.Sprintf("pm.max_children = %d", a.maxChild)
	}
	s := fmt.Sprintf("php-fpm pool %q was exhausted (%s, every worker busy", pool, limit)
	find := "find the slow requests holding workers (enable `slowlog` with `request_slowlog_timeout = 5s`)"
	if script, n := slowScript(a); script != "" {
		s += fmt.Sprintf(", %s running slow", script)
		find = fmt.Sprintf("make %s faster: php-fpm logged it executing too slow %d time(s) (its stack is in the pool's slowlog)", script, n)
	}
	s += "); queued requests failed: " + statusPhrase(inc)
	fix := fmt.Sprintf("Raise %s in the pool's config (e.g. /etc/php/8.2/fpm/pool.d/%s.conf) as far as memory allows (≈ available RAM / typical worker RSS), "+
		"and %s; then `systemctl reload php8.2-fpm`.", limit, pool, find)
	ev := append(pick(a, parsers.SigFPMMaxChildren), pick(a, parsers.SigConnectAgain, parsers.SigUpstreamTimedOut, parsers.SigApacheTimeout)...)
	ev = append(ev, pickSlow(a)...)
	return verdict{CausePoolExhausted, conf, s, fix, ev}, true
}

func apacheMaxWorkersRule(inc *incident) (verdict, bool) {
	a := &inc.sig
	if a.n[parsers.SigApacheMaxWorkers] == 0 {
		return verdict{}, false
	}
	return verdict{CauseApacheMaxWorkers, 0.8,
		fmt.Sprintf("apache reached MaxRequestWorkers and queued requests: %s", statusPhrase(inc)),
		"Raise MaxRequestWorkers (and ServerLimit) in the MPM config (/etc/apache2/mods-available/mpm_event.conf) within memory limits, and look for slow requests holding workers.",
		pick(a, parsers.SigApacheMaxWorkers)}, true
}

func upstreamTimeoutRule(c *Correlator, inc *incident) verdict {
	a := &inc.sig
	conf := 0.8
	if c.coverage.fpm {
		conf = 0.85 // the pool's log was read and did not report exhaustion
	}
	up := topUpstream(a)
	what := "the upstream"
	if up != "" {
		what = up
	}
	s := fmt.Sprintf("%s did not answer within the proxy read timeout: %s", what, statusPhrase(inc))
	find := "Find the slow requests (php-fpm `slowlog` with `request_slowlog_timeout`, application logs, database)"
	if script, n := slowScript(a); script != "" {
		s = fmt.Sprintf("%s did not answer within the proxy read timeout (%s running slow): %s", what, script, statusPhrase(inc))
		find = fmt.Sprintf("Make %s faster: php-fpm logged it executing too slow %d time(s) (its stack is in the pool's slowlog)", script, n)
	}
	fix := find + "; if the requests are legitimately slow, raise `fastcgi_read_timeout`/`proxy_read_timeout` (nginx) or `ProxyTimeout` (apache), keeping it below Cloudflare's 100 s proxy read timeout (524)."
	ev := append(pick(a, parsers.SigUpstreamTimedOut, parsers.SigApacheTimeout), pickSlow(a)...)
	return verdict{CauseUpstreamTimeout, conf, s, fix, ev}
}

// workerDiedRules resolves a reset/closed connection: the proxy cannot tell
// an OOM kill, a request_terminate_timeout and a crash apart, so php-fpm's
// and the kernel's lines decide. Without them the cause is unknown.
func workerDiedRules(c *Correlator, inc *incident, scale float64) verdict {
	if v, ok := workerDied(c, inc, scale); ok {
		return v
	}
	if v, ok := httpUpstreamCrashRule(c, inc); ok {
		return v
	}
	a := &inc.sig
	what := "the upstream closed or reset connections mid-request"
	need := "Read the php-fpm log and the kernel log (kern.log / `journalctl -k`) for this time:"
	if c.coverage.fpm && c.kernelCovers(inc) {
		need = "Neither php-fpm nor the kernel logged a reason; check the application's own logs and"
	}
	return verdict{CauseUnknown, 0.3,
		fmt.Sprintf("%s (%s), but no php-fpm or kernel line says why", what, statusPhrase(inc)),
		need + " a worker killed by the OOM killer, terminated by request_terminate_timeout or crashed gives exactly this.",
		pick(a, parsers.SigResetByPeer, parsers.SigPrematurelyClosed)}
}

// workerDied looks for a php-fpm worker (or other upstream process) that
// died around the incident and names how.
func workerDied(c *Correlator, inc *incident, scale float64) (verdict, bool) {
	a := &inc.sig
	fpmExit := map[int]exit{}
	for _, e := range a.exits {
		fpmExit[e.pid] = e
	}
	// OOM kills: joined to a php-fpm exit by PID, or of an upstream-looking process.
	var oomN int
	joined := false
	var victim oom
	for _, o := range a.ooms {
		_, isFPM := fpmExit[o.pid]
		if isFPM || upstreamProcess(o.process) {
			oomN++
			if victim.pid == 0 || isFPM {
				victim = o
			}
			joined = joined || isFPM
		}
	}
	var termN, crashN, kill9 int
	crashSig := 0
	for _, e := range a.exits {
		switch {
		case a.timeouts[e.pid]:
			termN++
		case e.sig == 11 || e.sig == 6 || e.sig == 7 || e.sig == 4 || e.sig == 8 || e.sig == 5:
			crashN++
			crashSig = e.sig
		case e.sig == 9:
			if !isOOMVictim(a, e.pid) {
				kill9++
			}
		}
	}
	if termN == 0 && len(a.timeouts) > 0 {
		termN = len(a.timeouts)
	}
	for pid, proc := range a.segfaults {
		if _, seen := fpmExit[pid]; !seen && upstreamProcess(proc) && !webServerProcess(proc) {
			crashN++
			if crashSig == 0 {
				crashSig = 11
			}
		}
	}
	switch {
	case oomN > 0 && oomN >= termN && oomN >= crashN:
		conf := 0.85
		if joined {
			conf = 0.95
		}
		s := fmt.Sprintf("%s worker %d was killed by the kernel OOM killer", nonEmpty(victim.process, "an upstream"), victim.pid)
		if oomN > 1 {
			s = fmt.Sprintf("%d upstream workers (first: %s %d) were killed by the kernel OOM killer", oomN, nonEmpty(victim.process, "process"), victim.pid)
		}
		s += "; " + statusPhrase(inc)
		fix := "Memory ran out (host or memory cgroup): lower pm.max_children so that max_children × worker RSS fits, cap PHP's `memory_limit`, " +
			"or give the service more memory (MemoryMax= of its unit / the cgroup limit); find the request that used the memory (slowlog, access log around " +
			victim.t.UTC().Format("15:04:05") + ")."
		ev := append(pick(a, parsers.SigOOMKill, parsers.SigOOMConstraint, parsers.SigOOMInvoked), pickExit(a, 9)...)
		ev = append(ev, pick(a, parsers.SigResetByPeer, parsers.SigPrematurelyClosed)...)
		return verdict{CauseOOMKill, conf * scale, s, fix, ev}, true
	case termN > 0 && termN >= crashN:
		limit := "request_terminate_timeout"
		if a.timeoutSec > 0 {
			limit = fmt.Sprintf("request_terminate_timeout (requests ran %d s)", a.timeoutSec)
		}
		s := fmt.Sprintf("php-fpm terminated %d request(s) that hit %s; %s", termN, limit, statusPhrase(inc))
		fix := "Make the slow scripts faster (see the script named in php-fpm's log, enable slowlog), or raise `request_terminate_timeout` in the pool config " +
			"(keep it below nginx's fastcgi_read_timeout and Cloudflare's 100 s); `max_execution_time` does not cover time spent outside PHP."
		ev := append(pick(a, parsers.SigFPMExecTimeout), pickExit(a, 15, 9)...)
		return verdict{CauseRequestTerminated, 0.9 * scale, s, fix, ev}, true
	case crashN > 0:
		s := fmt.Sprintf("%d php-fpm worker(s) crashed (signal %d, %s); %s", crashN, crashSig, sigName(crashSig), statusPhrase(inc))
		fix := "A worker crashed: look for the extension or code path (core dump with `coredumpctl`, `rlimit_core = unlimited` in the pool, " +
			"disable recently added PHP extensions / opcache JIT), and update PHP and its extensions."
		ev := append(pickExit(a, 11, 6, 7, 4, 8, 5), pick(a, parsers.SigSegfault)...)
		return verdict{CauseUpstreamCrash, 0.9 * scale, s, fix, ev}, true
	case kill9 > 0:
		if c.kernelCovers(inc) {
			s := fmt.Sprintf("%d php-fpm worker(s) were killed with SIGKILL, not by the OOM killer (the kernel log has no OOM kill); %s", kill9, statusPhrase(inc))
			return verdict{CauseUpstreamCrash, 0.6 * scale, s,
				"Something outside php-fpm killed its workers with SIGKILL (a watchdog, a deploy script, an admin's kill -9): find it in the audit/auth logs and stop it killing busy workers.",
				pickExit(a, 9)}, true
		}
		s := fmt.Sprintf("%d php-fpm worker(s) were killed with SIGKILL, most likely by the OOM killer (no kernel log was read to confirm); %s", kill9, statusPhrase(inc))
		return verdict{CauseOOMKill, 0.55 * scale, s,
			"Check the kernel log (`journalctl -k`, /var/log/kern.log) for `Out of memory: Killed process`; if confirmed, lower pm.max_children or PHP's memory_limit, or give the service more memory.",
			pickExit(a, 9)}, true
	}
	return verdict{}, false
}

func isOOMVictim(a *agg, pid int) bool {
	for _, o := range a.ooms {
		if o.pid == pid {
			return true
		}
	}
	return false
}

func invalidResponseRule(inc *incident) verdict {
	a := &inc.sig
	return verdict{CauseInvalidResponse, 0.85,
		fmt.Sprintf("the upstream sent an invalid response header: %s", statusPhrase(inc)),
		"The application wrote output before its headers or sent a malformed status/header line (PHP warnings printed before header(), a debug echo, a non-FastCGI service on the FastCGI port): check the application's error log for these requests and that fastcgi_pass points to php-fpm.",
		pick(a, parsers.SigInvalidHeader, parsers.SigApacheBadHeader)}
}

func headerTooBigRule(inc *incident) verdict {
	a := &inc.sig
	directive := "fastcgi_buffer_size 32k; fastcgi_buffers 16 16k;"
	if up := topUpstream(a); strings.HasPrefix(up, "http") {
		directive = "proxy_buffer_size 32k; proxy_buffers 8 32k; proxy_busy_buffers_size 64k;"
	}
	return verdict{CauseHeaderTooBig, 0.95,
		fmt.Sprintf("the upstream's response headers were larger than nginx's buffer: %s", statusPhrase(inc)),
		"Raise the header buffer in the server or location block (`" + directive + "`) and reload nginx; large Set-Cookie or Link headers are the usual cause — trim them if you can.",
		pick(a, parsers.SigHeaderTooBig)}
}

func permissionDeniedRule(inc *incident) verdict {
	a := &inc.sig
	up := topUpstream(a)
	fix := "nginx's user (www-data) cannot connect to the upstream: for a unix socket set `listen.owner = www-data`, `listen.group = www-data`, `listen.mode = 0660` in the php-fpm pool and restart it; under SELinux allow it with `setsebool -P httpd_can_network_connect 1` (TCP) or fix the socket's context."
	return verdict{CausePermissionDenied, 0.95,
		fmt.Sprintf("permission denied connecting to %s: %s", nonEmpty(up, "the upstream"), statusPhrase(inc)),
		fix, pick(a, parsers.SigConnectPermission)}
}

func workerConnectionsRule(inc *incident) verdict {
	a := &inc.sig
	what := "the web server ran out of connections or file descriptors"
	if a.n[parsers.SigWorkerConnections] > 0 {
		what = "nginx ran out of worker_connections"
		if v := workerConnectionsValue(a); v > 0 {
			what = fmt.Sprintf("nginx ran out of worker_connections (%d)", v)
		}
		if a.n[parsers.SigTooManyOpenFiles] > 0 {
			what += " and file descriptors"
		}
	}
	phrase := statusPhrase(inc)
	if inc.failed() == 0 {
		phrase = "connections it could not take were closed unanswered (no access-log line; Cloudflare shows its visitors 520)"
	}
	return verdict{CauseWorkerConnections, 0.9,
		fmt.Sprintf("%s: %s", what, phrase),
		"Raise `worker_connections` (events block) and `worker_rlimit_nofile` in nginx.conf, and LimitNOFILE= in the service unit; each proxied request uses two connections.",
		pick(a, parsers.SigWorkerConnections, parsers.SigTooManyOpenFiles)}
}

func rateLimitedRule(inc *incident) verdict {
	a := &inc.sig
	return verdict{CauseRateLimited, 0.9,
		fmt.Sprintf("nginx rejected requests by rate limiting (limit_req/limit_conn): %s", statusPhrase(inc)),
		"If the limited clients are legitimate (behind Cloudflare every visitor arrives from Cloudflare's addresses: make sure `real_ip_header CF-Connecting-IP` and `set_real_ip_from` are set so limits key on the real client), raise `rate`/`burst` of the zone or use `limit_req_status 429`.",
		pick(a, parsers.SigLimitingRequests, parsers.SigLimitingConnections)}
}

func applicationErrorRule(c *Correlator, inc *incident) (verdict, bool) {
	gw := inc.gateways - inc.pseudo
	if gw == 0 {
		return verdict{}, false
	}
	covered := (inc.apache < gw && c.coverage.nginxError) || (inc.apache > 0 && c.coverage.apacheError)
	// nginx writes $upstream_status 502/504 for its own 502/504 too (a
	// refused connect, an invalid header, a timeout): without the error log
	// to show there was no such line, only a 503 is the upstream's word.
	eq := inc.upEq
	if !covered {
		eq -= inc.upEqOwn
	}
	upEq := inc.upLg > 0 && eq*5 >= inc.upLg*4
	if !covered && !upEq {
		return verdict{}, false
	}
	conf := 0.7
	why := "the proxy logged no error for them"
	switch {
	case covered && upEq:
		conf, why = 0.9, "the proxy logged no error for them and $upstream_status shows the upstream's own status"
	case upEq:
		conf, why = 0.6, "$upstream_status shows the upstream's own status (no proxy error log was read to confirm)"
	}
	return verdict{CauseApplicationError, conf,
		fmt.Sprintf("the application itself answered with these statuses (%s); %s", statusPhrase(inc), why),
		"Not an origin infrastructure failure: the application returned the status (maintenance mode, an unhealthy dependency, an explicit http_response_code(502/503)). Check the application's own logs for these requests.",
		nil}, true
}

func unknownRule(c *Correlator, inc *incident) verdict {
	var missing []string
	if !c.coverage.nginxError && !c.coverage.apacheError {
		missing = append(missing, "the web server's error log")
	}
	if !c.coverage.fpm {
		missing = append(missing, "the php-fpm log")
	}
	if !c.kernelCovers(inc) {
		missing = append(missing, "the kernel log")
	}
	fix := "No log line read explains these statuses."
	if len(missing) > 0 {
		fix += " Add " + strings.Join(missing, ", ") + " for this period and analyze again."
	}
	return verdict{CauseUnknown, 0.2, fmt.Sprintf("%s with no corroborating signal in the logs read", capitalize(statusPhrase(inc))), fix, nil}
}

// ---- helpers ----

// statusPhrase says how many requests got which gateway status.
func statusPhrase(inc *incident) string {
	var parts []string
	for _, s := range []int{502, 503, 504, 499} {
		if n := inc.statuses[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d got %d", n, s))
		}
	}
	n := inc.failed()
	if n == 0 {
		return "no request in the access log got a gateway status"
	}
	if len(parts) == 1 {
		for _, s := range []int{502, 503, 504, 499} {
			if inc.statuses[s] > 0 {
				return fmt.Sprintf("%d request%s got %d", n, plural(n), s)
			}
		}
	}
	return fmt.Sprintf("%d request%s failed (%s)", n, plural(n), strings.Join(parts, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pick returns the kept evidence lines for the given signals.
func pick(a *agg, sigs ...parsers.Signal) []Evidence {
	var out []Evidence
	for _, s := range sigs {
		if int(s) < len(a.evidence) {
			out = append(out, a.evidence[s]...)
		}
	}
	return out
}

// slowScript is the script php-fpm most often logged as executing too
// slow during the incident, and how often.
func slowScript(a *agg) (string, int) {
	t := topCounts(a.slow, 1)
	if len(t) == 0 {
		return "", 0
	}
	return t[0].Value, t[0].N
}

// pickSlow returns the "executing too slow" warnings that name a script.
func pickSlow(a *agg) []Evidence {
	if len(a.slow) == 0 {
		return nil
	}
	return pick(a, parsers.SigFPMSlowlog)
}

// pickExit returns evidence of php-fpm children exiting on the given signals.
func pickExit(a *agg, sigs ...int) []Evidence {
	var out []Evidence
	for _, e := range a.exits {
		for _, s := range sigs {
			if e.sig == s && len(out) < maxEvidencePerSignal {
				out = append(out, e.evd)
				break
			}
		}
	}
	return out
}

// topUpstream is the upstream most errors name, as an admin would write it:
// "unix:/run/php/php8.2-fpm.sock" or "127.0.0.1:9000" (nginx logs
// "fastcgi://unix:/run/php/php8.2-fpm.sock:").
func topUpstream(a *agg) string {
	t := topCounts(a.upstreams, 1)
	if len(t) == 0 {
		return ""
	}
	u := t[0].Value
	if i := strings.Index(u, "://"); i >= 0 && (strings.HasPrefix(u, "fastcgi") || strings.HasPrefix(u, "uwsgi") || strings.HasPrefix(u, "scgi")) {
		u = u[i+3:]
	}
	if strings.HasPrefix(u, "unix:") {
		u = strings.TrimSuffix(u, ":")
	}
	return u
}

// upstreamProcess reports whether a process name looks like something a
// web server proxies to (or the web server itself).
func upstreamProcess(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"php", "fpm", "apache", "httpd", "nginx", "python", "gunicorn", "uwsgi", "node", "ruby", "puma", "java", "dotnet", "perl"} {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

func sigName(s int) string {
	switch s {
	case 4:
		return "SIGILL"
	case 5:
		return "SIGTRAP"
	case 6:
		return "SIGABRT"
	case 7:
		return "SIGBUS"
	case 8:
		return "SIGFPE"
	case 9:
		return "SIGKILL"
	case 11:
		return "SIGSEGV"
	case 15:
		return "SIGTERM"
	}
	return "signal " + strconv.Itoa(s)
}
