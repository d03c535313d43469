package main

// End-to-end tests of shipping with a real rsyslogd started by the test on
// loopback (ports 22000-22999). They need rsyslogd (no root); without it
// they skip, unless ORIGIN_AGENT_E2E=1 (CI), where they must run.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
	"github.com/origin-agent/origin-agent/internal/receivers"
	"github.com/origin-agent/origin-agent/internal/testenv"
)

// shipReceived is one message as rsyslog parsed it.
type shipReceived struct {
	MsgID, SD, AppName, Host, Msg string
	Finding                       finding.Finding
}

func parseShipReceived(t testing.TB, line string) shipReceived {
	t.Helper()
	p := strings.SplitN(line, "|", 5)
	if len(p) != 5 {
		t.Fatalf("rsyslog line is not msgid|sd|app|host|msg: %q", line)
	}
	r := shipReceived{MsgID: p[0], SD: p[1], AppName: p[2], Host: p[3], Msg: strings.TrimPrefix(p[4], " ")}
	if err := json.Unmarshal([]byte(r.Msg), &r.Finding); err != nil {
		t.Fatalf("message is not a finding: %v: %q", err, r.Msg)
	}
	return r
}

// shipWantSD is the structured data element rsyslog must have parsed.
func shipWantSD(f finding.Finding) string {
	return fmt.Sprintf(`[origin-agent@32473 cause="%s" id="%s" severity="%s"]`, f.Cause, f.ID, f.Severity)
}

// TestAnalyzeShipRsyslogE2E: `analyze --ship ./examples` delivers one closed
// finding per incident to a real rsyslog, which parses each as RFC 5424
// with the structured data intact; evidence is redacted by default.
func TestAnalyzeShipRsyslogE2E(t *testing.T) {
	receivers.RequireRsyslog(t, false)
	var js, errb bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "--format", "json", "../../examples"}, &js, &errb); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errb.String())
	}
	var rep struct {
		Incidents []struct {
			ID       string `json:"id"`
			Cause    string `json:"cause"`
			Evidence []struct {
				Text string `json:"text"`
			} `json:"evidence"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	exp, err := os.ReadFile("../../examples/expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := 0 // one incident per case that expects a cause
	for _, l := range strings.Split(string(exp), "\n") {
		if f := strings.Fields(l); len(f) == 2 && !strings.HasPrefix(f[0], "#") && f[1] != "none" {
			want++
		}
	}
	if len(rep.Incidents) != want {
		t.Fatalf("analyze ./examples found %d incidents, want %d (one per case of examples/expected.txt)", len(rep.Incidents), want)
	}

	dir := t.TempDir()
	port := shipPort(t)
	rs := receivers.StartRsyslogTCP(t, dir, port)
	cfg := writeShipConfig(t, dir, port)
	var out bytes.Buffer
	errb.Reset()
	if code := run(context.Background(), []string{"analyze", "--ship", "--config", cfg, "../../examples"}, &out, &errb); code != exitOK {
		t.Fatalf("analyze --ship: exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	if d := fmt.Sprintf("syslog-1: %d of %d findings delivered\n", want, want); !strings.Contains(errb.String(), d) {
		t.Errorf("stderr does not report %q:\n%s", d, errb.String())
	}
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if lines = rs.Lines(); len(lines) >= want {
			break
		}
	}
	if len(lines) != want {
		t.Fatalf("rsyslog wrote %d lines, want %d:\n%s", len(lines), want, strings.Join(lines, "\n"))
	}
	got := map[string]shipReceived{}
	for _, l := range lines {
		r := parseShipReceived(t, l)
		got[r.Finding.ID] = r
	}
	redactedQueries := 0
	for _, inc := range rep.Incidents {
		r, ok := got[inc.ID+"-closed"]
		if !ok {
			t.Errorf("incident %s (%s): no finding arrived", inc.ID, inc.Cause)
			continue
		}
		f := r.Finding
		if r.MsgID != "incident-closed" || r.AppName != "origin-agent" || r.Host != "web1.example.com" {
			t.Errorf("%s: header msgid=%q app=%q host=%q", f.ID, r.MsgID, r.AppName, r.Host)
		}
		if string(f.Cause) != inc.Cause || f.State != finding.StateClosed || f.Severity != finding.SeverityOf(f.Cause) {
			t.Errorf("%s: cause %q state %q severity %q, analysis said cause %q", f.ID, f.Cause, f.State, f.Severity, inc.Cause)
		}
		if r.SD != shipWantSD(f) {
			t.Errorf("%s: structured data\n got %s\nwant %s", f.ID, r.SD, shipWantSD(f))
		}
		if len(f.Evidence) != len(inc.Evidence) {
			t.Errorf("%s: %d evidence lines, analysis had %d", f.ID, len(f.Evidence), len(inc.Evidence))
			continue
		}
		for i, e := range inc.Evidence {
			q := strings.Index(e.Text, "?")
			if q < 0 || !strings.Contains(e.Text[q:], "=") {
				continue
			}
			// "?range=365d HTTP/1.1" must arrive as "?range=[redacted] HTTP/1.1".
			name, _, _ := strings.Cut(e.Text[q+1:], "=")
			want := "?" + name + "=[redacted]"
			if !strings.Contains(f.Evidence[i].Text, want) {
				t.Errorf("%s evidence %d: %q not redacted to %q:\n%s", f.ID, i, e.Text[q:min(len(e.Text), q+40)], want, f.Evidence[i].Text)
			}
			raw, _, _ := strings.Cut(e.Text[q:], " ") // "?range=365d"
			if strings.Contains(r.Msg, raw) {
				t.Errorf("%s: the raw query %q of evidence %d reached rsyslog", f.ID, raw, i)
			}
			redactedQueries++
		}
	}
	if redactedQueries == 0 {
		t.Fatal("no evidence line of the examples has a query string: the redaction check checked nothing")
	}
	t.Logf("%d findings arrived at rsyslog; %d evidence query strings redacted", want, redactedQueries)
}

// shipAgent is one run of the real origin-agent binary, started by the test.
type shipAgent struct {
	cmd     *exec.Cmd
	log     string
	mu      sync.Mutex
	running chan struct{}
}

func startShipAgent(t *testing.T, bin, cfg, logPath, pathDir string) *shipAgent {
	t.Helper()
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	a := &shipAgent{cmd: exec.Command(bin, "run", "--config", cfg), log: logPath, running: make(chan struct{})}
	// An empty PATH: the periodic audit finds no iptables to list, so the
	// test never reads the host's firewall.
	a.cmd.Env = append(os.Environ(), "PATH="+pathDir)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stderr = pw
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start origin-agent run: %v", err)
	}
	pw.Close()
	go func() {
		defer lf.Close()
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(lf, sc.Text())
			if strings.Contains(sc.Text(), `msg="agent running"`) {
				once.Do(func() { close(a.running) })
			}
		}
	}()
	select {
	case <-a.running:
	case <-time.After(20 * time.Second):
		a.cmd.Process.Kill()
		a.cmd.Wait()
		b, _ := os.ReadFile(logPath)
		t.Fatalf("origin-agent run did not start:\n%s", b)
	}
	time.Sleep(300 * time.Millisecond) // tailers open their files
	return a
}

// Kill sends sig to the agent this test started, by its PID, and waits.
func (a *shipAgent) Kill(sig syscall.Signal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil {
		return
	}
	a.cmd.Process.Signal(sig)
	a.cmd.Wait()
	a.cmd = nil
}

// shipNginxBurst writes one burst of n 502s, each with nginx's proxy error line
// for a refused connection, 100 ms apart, as nginx writes them: the error
// line when connect() fails, the access line when the request ends.
func shipNginxBurst(t *testing.T, access, errorLog *os.File, burst, n int) {
	t.Helper()
	for i := range n {
		now := time.Now()
		uri := fmt.Sprintf("/checkout.php?session=s%02d%03d&step=2", burst, i)
		el := fmt.Sprintf("%s [error] 4121#4121: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: shop.example.com, request: \"GET %s HTTP/1.1\", upstream: \"fastcgi://127.0.0.1:9000\", host: \"shop.example.com\", referrer: \"https://shop.example.com/cart\"\n",
			now.Format("2006/01/02 15:04:05"), 1000*burst+i, uri)
		al := fmt.Sprintf("203.0.113.7 - - [%s] \"GET %s HTTP/1.1\" 502 559 \"https://shop.example.com/cart\" \"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0\"\n",
			now.Format("02/Jan/2006:15:04:05 -0700"), uri)
		if _, err := errorLog.WriteString(el); err != nil {
			t.Fatal(err)
		}
		if _, err := access.WriteString(al); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shipEmitted reads the agent's file sink. The file sink comes after
// the syslog sink in the config and the agent emits in order, so a finding
// in this file was fsynced to the syslog spool first (Append returned).
func shipEmitted(t *testing.T, path string) []finding.Finding {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []finding.Finding
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var f finding.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("findings file: %v: %q", err, l)
		}
		out = append(out, f)
	}
	return out
}

// TestShipOutageE2E runs the real daemon with a syslog (TCP) sink while the
// test writes bursts of 502s to an nginx access and error log. rsyslog is
// stopped for an outage while findings are produced; the daemon is killed
// with SIGKILL during the outage and restarted on the same state; then
// rsyslog comes back. Every finding the daemon emitted must arrive, with
// its structured data; duplicates (at-least-once) are counted and reported.
//
// The outage lasts 60 s (the figure) under ORIGIN_AGENT_E2E=1, 15 s
// otherwise; ORIGIN_AGENT_OUTAGE=DURATION overrides both.
func TestShipOutageE2E(t *testing.T) {
	receivers.RequireRsyslog(t, false)
	if testing.Short() {
		t.Skip("the outage test runs for 30-90 s")
	}
	outage := 15 * time.Second
	if testenv.E2E() {
		outage = 60 * time.Second
	}
	if v := os.Getenv("ORIGIN_AGENT_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ORIGIN_AGENT_OUTAGE: %v", err)
		}
		outage = d
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "origin-agent")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build origin-agent: %v", err)
	}
	emptyPath := filepath.Join(dir, "bin")
	if err := os.Mkdir(emptyPath, 0o755); err != nil {
		t.Fatal(err)
	}
	// The checks watch a port this test holds on loopback only (no TLS):
	// they report failing listener and TLS checks, check findings that
	// must be shipped like the incidents.
	held, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", shipPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	port := shipPort(t)
	rs := receivers.StartRsyslogTCP(t, dir, port)
	accessPath, errorPath, findingsPath := filepath.Join(dir, "access.log"), filepath.Join(dir, "error.log"), filepath.Join(dir, "findings.jsonl")
	open := func(p string) *os.File {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	access, errorLog := open(accessPath), open(errorPath)
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "config.toml")
	conf := fmt.Sprintf(`[agent]
state_dir = %q
hostname = "web1.example.com"

[sources]
nginx_conf = "off"
apache_conf = "off"
php_fpm_conf = "off"
nginx_access = [%q]
nginx_error = [%q]
kernel = "off"

[correlate]
gap = "2s"

[checks]
interval = "1s"
ports = [%d]

[firewall]
audit_interval = "24h"

[metrics]
listen = ""

[[sinks]]
type = "syslog"
name = "syslog-1"
address = "tcp://127.0.0.1:%d"
retry_max = "1s"
batch_wait = "50ms"

[[sinks]]
type = "file"
path = %q
`, state, accessPath, errorPath, held.Addr().(*net.TCPAddr).Port, port, findingsPath)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	agentLog := filepath.Join(dir, "agent.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(agentLog)
			t.Logf("agent log:\n%s", b)
		}
	}()

	// Healthy first: one incident delivered while rsyslog is up.
	a1 := startShipAgent(t, bin, cfg, agentLog, emptyPath)
	defer a1.Kill(syscall.SIGKILL)
	burst := 0
	shipNginxBurst(t, access, errorLog, burst, 8)
	burst++
	for deadline := time.Now().Add(15 * time.Second); len(rs.Lines()) == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if len(rs.Lines()) == 0 {
		t.Fatal("nothing reached rsyslog while it was up")
	}
	time.Sleep(3 * time.Second) // let the first incident close

	rs.Stop()
	outageStart := time.Now()
	deliveredBefore := len(rs.Lines())
	// Bursts 1 s long, 3.5 s apart (> gap 2 s + settle): each its own incident.
	every := 4500 * time.Millisecond
	produce := func(until time.Time) {
		for time.Until(until) > every {
			start := time.Now()
			shipNginxBurst(t, access, errorLog, burst, 10)
			burst++
			time.Sleep(every - time.Since(start))
		}
	}
	produce(outageStart.Add(outage / 2))
	time.Sleep(time.Until(outageStart.Add(outage / 2)))
	a1.Kill(syscall.SIGKILL)
	run1 := shipEmitted(t, findingsPath)
	sp, err := spool.Open(filepath.Join(state, "spool", "syslog-1"), 0)
	if err != nil {
		t.Fatalf("open the killed agent's spool: %v", err)
	}
	spooledAtKill := sp.Len()
	sp.Close()
	t.Logf("agent 1 killed (SIGKILL) %v into the outage: %d findings emitted, %d delivered before the outage, %d in its spool",
		time.Since(outageStart).Round(time.Millisecond), len(run1), deliveredBefore, spooledAtKill)
	if spooledAtKill == 0 || len(run1) <= deliveredBefore {
		t.Fatalf("no finding was produced during the outage before the kill (emitted %d, delivered %d, spooled %d): the test proves nothing", len(run1), deliveredBefore, spooledAtKill)
	}

	a2 := startShipAgent(t, bin, cfg, agentLog, emptyPath)
	defer a2.Kill(syscall.SIGTERM)
	produce(outageStart.Add(outage))
	time.Sleep(time.Until(outageStart.Add(outage)))
	rs.Start()
	t.Logf("rsyslog back after %v", time.Since(outageStart).Round(time.Millisecond))
	time.Sleep(4 * time.Second) // the last incident closes

	var all []finding.Finding
	var seen map[string]int
	var missing []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		all = shipEmitted(t, findingsPath)
		seen = map[string]int{}
		for _, l := range rs.Lines() {
			r := parseShipReceived(t, l)
			seen[r.Finding.ID]++
			if r.SD != shipWantSD(r.Finding) || r.MsgID != string(r.Finding.Kind)+"-"+string(r.Finding.State) {
				t.Fatalf("%s: rsyslog parsed msgid %q sd %q, want %q", r.Finding.ID, r.MsgID, r.SD, shipWantSD(r.Finding))
			}
			if strings.Contains(r.Msg, "session=s") {
				t.Fatalf("%s: an unredacted query value reached rsyslog: %s", r.Finding.ID, r.Msg)
			}
		}
		missing = missing[:0]
		for _, f := range all {
			if seen[f.ID] == 0 {
				missing = append(missing, f.ID+" ("+string(f.State)+")")
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d emitted findings never arrived: %v", len(missing), len(all), missing)
	}
	emittedIDs := map[string]bool{}
	for _, f := range all {
		emittedIDs[f.ID] = true
	}
	arrived, dups, states := 0, 0, map[finding.State]int{}
	for id, n := range seen {
		if !emittedIDs[id] {
			t.Errorf("rsyslog received %s, which no agent run wrote to its file sink", id)
		}
		arrived += n
		dups += n - 1
	}
	for _, f := range all {
		states[f.State]++
		if f.Kind == finding.KindCheck {
			t.Logf("check finding %s: %s %s %s", f.ID, f.Check, f.State, f.Summary)
		}
	}
	t.Logf("outage %v: agent run 1 emitted %d findings, run 2 %d more (%d distinct ids: %v); rsyslog received %d messages, %d distinct ids, all emitted ids present; %d duplicate deliveries before de-duplication by id",
		outage, len(run1), len(all)-len(run1), len(emittedIDs), states, arrived, len(seen), dups)
}
