package main

// The agent under test: `origin-agent run --config FILE` as a subprocess,
// its findings read from its stdout as they come, its log from stderr.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
)

const e2eHost = "e2e-origin"

// agentConfig is the [sources] and [checks] part of a test config; the
// rest (state dir, sinks, metrics, gap) is filled in by writeAgentConfig.
type agentConfig struct {
	StateDir                        string
	NginxAccess, NginxError, PHPFPM []string
	ApacheAccess, ApacheError       []string
	Kernel                          string // default "off"
	Ports                           []int
	Upstreams                       []string
	MetricsPort                     int
	ExtraSinks                      string // more [[sinks]] tables, appended as they are
}

func tomlList[T any](xs []T) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		if s, ok := any(x).(string); ok {
			parts[i] = strconv.Quote(s)
		} else {
			parts[i] = fmt.Sprint(x)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// text renders the config: explicit log lists, discovery of the host's
// own nginx/apache/php-fpm turned off, 1 s checks, a 5 s gap, stdout and
// file sinks, metrics on the test's port.
func (c agentConfig) text() string {
	kernel := c.Kernel
	if kernel == "" {
		kernel = "off"
	}
	return fmt.Sprintf(`# origin-agent run e2e test
[agent]
state_dir = %q
hostname = %q
log_level = "info"

[sources]
nginx_conf = "off"
apache_conf = "off"
php_fpm_conf = "off"
nginx_access = %s
nginx_error = %s
apache_access = %s
apache_error = %s
php_fpm = %s
kernel = %q

[correlate]
gap = "5s"

[checks]
interval = "1s"
ports = %s
upstreams = %s

[firewall]
audit_interval = "24h"

[metrics]
listen = "127.0.0.1:%d"

[[sinks]]
type = "stdout"

[[sinks]]
type = "file"
path = %q
%s`, c.StateDir, e2eHost, tomlList(c.NginxAccess), tomlList(c.NginxError), tomlList(c.ApacheAccess), tomlList(c.ApacheError),
		tomlList(c.PHPFPM), kernel, tomlList(c.Ports), tomlList(c.Upstreams), c.MetricsPort, filepath.Join(c.StateDir, "findings.jsonl"), c.ExtraSinks)
}

// seen is one finding as it came out of the agent's stdout.
type seen struct {
	at  time.Time
	raw string
	f   finding.Finding
}

// agentRun is a running `origin-agent run`.
type agentRun struct {
	*proc
	config  string
	metrics string // http://127.0.0.1:port
	stderr  *lockedBuffer

	mu        sync.Mutex
	findings  []seen
	bad       []string // stdout lines that are not findings
	stdoutEOF chan struct{}
}

// startAgent writes cfg to dir/config.toml and runs the agent on it; cred,
// when not nil, runs it as another user.
func startAgent(t *testing.T, bin, dir string, cfg agentConfig, cred *syscall.Credential) *agentRun {
	t.Helper()
	conf := writeFile(t, dir, "config.toml", cfg.text())
	cmd := exec.Command(bin, "run", "--config", conf)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &agentRun{config: conf, metrics: fmt.Sprintf("http://127.0.0.1:%d", cfg.MetricsPort),
		stderr: &lockedBuffer{}, stdoutEOF: make(chan struct{})}
	cmd.Stderr = a.stderr
	a.proc = startProc(t, "origin-agent", cmd)
	go a.read(stdout)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("origin-agent stderr:\n%s", a.stderr.String())
		}
	})
	return a
}

func (a *agentRun) read(r io.Reader) {
	defer close(a.stdoutEOF)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		var f finding.Finding
		err := json.Unmarshal([]byte(line), &f)
		a.mu.Lock()
		if err != nil {
			a.bad = append(a.bad, line)
		} else {
			a.findings = append(a.findings, seen{at: time.Now(), raw: line, f: f})
		}
		a.mu.Unlock()
	}
}

// waitReady waits for /healthz to answer 200.
func (a *agentRun) waitReady(t *testing.T) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	ok := eventually(15*time.Second, func() bool {
		resp, err := c.Get(a.metrics + "/healthz")
		if err != nil {
			return a.exited()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ok || a.exited() {
		t.Fatalf("origin-agent not ready (healthz): exited=%v\n%s", a.exited(), a.stderr.String())
	}
}

// cursor is the number of findings seen so far.
func (a *agentRun) cursor() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.findings)
}

// since returns the findings from cursor on.
func (a *agentRun) since(cursor int) []seen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seen(nil), a.findings[cursor:]...)
}

// waitFinding waits up to d for a finding from cursor on that match says yes to.
func (a *agentRun) waitFinding(cursor int, d time.Duration, match func(finding.Finding) bool) (seen, bool) {
	var got seen
	ok := eventually(d, func() bool {
		for _, s := range a.since(cursor) {
			if match(s.f) {
				got = s
				return true
			}
		}
		return false
	})
	return got, ok
}

// waitStderr waits up to d for the agent's log to match re.
func (a *agentRun) waitStderr(d time.Duration, re *regexp.Regexp) bool {
	return eventually(d, func() bool { return re.MatchString(a.stderr.String()) })
}

// terminate sends SIGTERM and returns how long the agent took to exit.
func (a *agentRun) terminate(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	// A hang bound, not a timing target (a clean stop takes well under 1 s).
	if !a.wait(30 * time.Second) {
		t.Fatalf("origin-agent did not exit within 30 s of SIGTERM\n%s", a.stderr.String())
	}
	<-a.stdoutEOF
	return time.Since(start)
}

// scrape fetches /metrics.
func (a *agentRun) scrape(t *testing.T) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(a.metrics + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// metricValue returns the value of the sample whose name and labels start
// the line as prefix, e.g. `origin_agent_lines_read_total{path="/x",type="nginx_access"}`.
func metricValue(text, prefix string) (float64, bool) {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// linesRead is origin_agent_lines_read_total for one file.
func (a *agentRun) linesRead(t *testing.T, typ, path string) float64 {
	t.Helper()
	v, _ := metricValue(a.scrape(t), fmt.Sprintf(`origin_agent_lines_read_total{path=%q,type=%q}`, path, typ))
	return v
}

// checkWellFormed asserts the finding/v1 contract on every finding of the
// run and that no id was emitted twice.
func checkWellFormed(t *testing.T, all []seen) {
	t.Helper()
	ids := map[string]bool{}
	for _, s := range all {
		f := s.f
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s.raw), &keys); err != nil {
			t.Errorf("finding is not a JSON object: %v: %s", err, s.raw)
			continue
		}
		for _, k := range []string{"schema", "id", "incident_id", "kind", "state", "severity", "host", "start", "end", "cause", "summary", "evidence", "remediation"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("finding lacks %q: %s", k, s.raw)
			}
		}
		switch {
		case f.Schema != finding.Schema:
			t.Errorf("schema %q, want %q: %s", f.Schema, finding.Schema, s.raw)
		case f.Host != e2eHost:
			t.Errorf("host %q, want %q: %s", f.Host, e2eHost, s.raw)
		case f.ID == "" || f.IncidentID == "":
			t.Errorf("empty id or incident_id: %s", s.raw)
		case f.Severity != finding.SeverityCritical && f.Severity != finding.SeverityWarning && f.Severity != finding.SeverityInfo:
			t.Errorf("severity %q: %s", f.Severity, s.raw)
		case f.Kind == finding.KindIncident && len(f.Evidence) == 0:
			t.Errorf("incident finding without evidence: %s", s.raw)
		case f.Kind == finding.KindIncident && f.Statuses == nil:
			t.Errorf("incident finding without statuses: %s", s.raw)
		case f.Kind != finding.KindIncident && f.Kind != finding.KindCheck && f.Kind != finding.KindHealth:
			t.Errorf("kind %q: %s", f.Kind, s.raw)
		case f.Kind == finding.KindHealth && (f.Severity != finding.SeverityWarning || f.Cause != "cannot_observe"):
			t.Errorf("kind %q: %s", f.Kind, s.raw)
		case f.Cause == "" || f.Summary == "":
			t.Errorf("empty cause or summary: %s", s.raw)
		}
		if ids[f.ID] {
			t.Errorf("finding id %s emitted twice (a finding repeated): %s", f.ID, s.raw)
		}
		ids[f.ID] = true
	}
}

// checkLifecycles asserts that every incident in all goes opened →
// updated… → closed under one incident_id, and every check failing →
// resolved at most once each. open lists incident ids allowed to be still
// open (the run was stopped during them).
func checkLifecycles(t *testing.T, all []seen) {
	t.Helper()
	states := map[string][]finding.State{}
	var order []string
	for _, s := range all {
		id := s.f.IncidentID
		if _, ok := states[id]; !ok {
			order = append(order, id)
		}
		states[id] = append(states[id], s.f.State)
	}
	for _, id := range order {
		st := states[id]
		var ok bool
		switch st[0] {
		case finding.StateOpened:
			ok = st[len(st)-1] == finding.StateClosed
			for _, s := range st[1 : len(st)-1] {
				ok = ok && s == finding.StateUpdated
			}
			ok = ok && len(st) >= 2
		case finding.StateFailing:
			ok = len(st) == 1 || (len(st) == 2 && st[1] == finding.StateResolved)
		}
		if !ok {
			t.Errorf("incident %s went %v; want opened, updated…, closed (or failing, resolved)", id, st)
		}
	}
}
