package main

// Health findings and unprivileged liveness (issue 12): the agent run as
// an unprivileged user next to a real php8.2-fpm whose pool socket is
// srw-rw---- www-data www-data and whose own log php-fpm creates root 0600.
// Run from TestRunE2E (root, the real servers).

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

func isHealth(path string) func(finding.Finding) bool {
	return func(f finding.Finding) bool { return f.Kind == finding.KindHealth && f.Check == "health.file:"+path }
}

func upstreamCheck(sock string, st finding.State) func(finding.Finding) bool {
	return func(f finding.Finding) bool {
		return f.Kind == finding.KindCheck && f.Check == "upstream.unix:"+sock && f.State == st
	}
}

func testHealthAsNobody(t *testing.T, bin string) {
	o := newOrigin(t)
	conf := o.fpmConf(t, "health", "pm = static\npm.max_children = 2")
	fpmLog := o.path("php-fpm.log")
	o.startFPM(t, conf, "")
	// The premises, as the stock host has them: the socket refuses the
	// agent's user, and php-fpm's log is root's alone.
	st, err := os.Stat(fpmLog)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("php-fpm created %s with mode %v uid %d; the test expects root 0600", fpmLog, st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
	}
	ss, err := os.Stat(o.sock)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Mode().Perm() != 0o660 || ss.Sys().(*syscall.Stat_t).Uid == nobody || ss.Sys().(*syscall.Stat_t).Gid == nobody {
		t.Fatalf("socket %s: mode %v; the test expects srw-rw---- www-data www-data (connect() by nobody: EACCES)", o.sock, ss.Mode())
	}

	dir := worldDir(t, "health")
	state := writeDir(t, dir, "state")
	ag := startAgent(t, bin, dir, agentConfig{
		StateDir: state, PHPFPM: []string{fpmLog}, Upstreams: []string{"unix:" + o.sock},
		Ports: []int{}, MetricsPort: freePort(t, 20300),
	}, &syscall.Credential{Uid: nobody, Gid: nobody})
	ag.waitReady(t)

	h, ok := ag.waitFinding(0, 10*time.Second, isHealth(fpmLog))
	if !ok {
		t.Fatalf("no health finding for the unreadable %s:\n%s", fpmLog, ag.stderr.String())
	}
	f := h.f
	if f.State != finding.StateFailing || f.Cause != checks.CauseCannotObserve || f.Severity != finding.SeverityWarning ||
		!strings.Contains(f.Summary, fpmLog) || !strings.Contains(f.Summary, "permission denied") ||
		!strings.Contains(f.Remediation, "systemctl enable --now origin-agent-logaccess.path") {
		t.Errorf("health finding: %s", h.raw)
	}
	// Five more check intervals (1 s): still one health finding, and the
	// socket the agent may not connect to is not reported down.
	time.Sleep(5 * time.Second)
	for _, s := range ag.since(0) {
		if s.f.Cause == correlate.CauseUpstreamDown {
			t.Errorf("upstream_down while php-fpm runs: %s", s.raw)
		}
		if s.f.Kind == finding.KindIncident && s.f.Cause == checks.CauseCannotObserve {
			t.Errorf("cannot_observe as an incident: %s", s.raw)
		}
		if s.f.Kind == finding.KindHealth && s.f.Severity != finding.SeverityWarning {
			t.Errorf("health finding not a warning: %s", s.raw)
		}
	}
	if n := count(ag.since(0), isHealth(fpmLog)); n != 1 {
		t.Errorf("%d health findings for %s, want 1", n, fpmLog)
	}

	// The grant (here: a mode): the finding resolves.
	cur := ag.cursor()
	if err := os.Chmod(fpmLog, 0o644); err != nil {
		t.Fatal(err)
	}
	r, ok := ag.waitFinding(cur, 10*time.Second, isHealth(fpmLog))
	if !ok || r.f.State != finding.StateResolved || r.f.IncidentID != f.IncidentID {
		t.Errorf("after chmod 0644: %q (ok=%v); want the health finding resolved", r.raw, ok)
	}

	// php-fpm stopped: now the socket is down, as /proc/net/unix says.
	cur = ag.cursor()
	t0 := time.Now()
	o.stopFPM(t, syscall.SIGQUIT)
	d, ok := ag.waitFinding(cur, 10*time.Second, upstreamCheck(o.sock, finding.StateFailing))
	if !ok || d.f.Cause != correlate.CauseUpstreamDown || !strings.Contains(d.f.Remediation, "systemctl start") {
		t.Fatalf("php-fpm stopped: %q (ok=%v); want an upstream_down check finding", d.raw, ok)
	}
	t.Logf("upstream_down check finding %v after php-fpm stopped", d.at.Sub(t0).Round(time.Millisecond))
	cur = ag.cursor()
	o.startFPM(t, conf, "")
	if _, ok := ag.waitFinding(cur, 10*time.Second, upstreamCheck(o.sock, finding.StateResolved)); !ok {
		t.Errorf("php-fpm started again: no resolved upstream finding")
	}
	if n := count(ag.since(0), func(f finding.Finding) bool { return isHealth(fpmLog)(f) && f.State == finding.StateFailing }); n != 1 {
		t.Errorf("%d failing health findings for %s over the run, want 1", n, fpmLog)
	}
	stopAgent(t, ag)
}

func count(ss []seen, match func(finding.Finding) bool) int {
	return len(slices.DeleteFunc(slices.Clone(ss), func(s seen) bool { return !match(s.f) }))
}

// writeDir makes dir/name owned by nobody.
func writeDir(t *testing.T, dir, name string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.Mkdir(p, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	return p
}
