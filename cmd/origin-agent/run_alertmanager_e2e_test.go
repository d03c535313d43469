package main

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/internal/receivers"
	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestRunAlertmanagerE2E: `origin-agent run` with an alertmanager sink and
// a real Alertmanager. A php-fpm outage written into the nginx logs the
// daemon tails fires an alert labelled cause=upstream_down (the target is
// within 10 s of the first 502; the latency is logged, not asserted), and
// the alert is resolved once the incident closes.
func TestRunAlertmanagerE2E(t *testing.T) {
	testenv.Require(t, testenv.Go()) // to build the agent
	am := receivers.StartAlertmanager(t)
	bin := buildAgent(t)
	dir := t.TempDir()
	access, errLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "error.log")
	appendLines(t, access, accessLine(time.Now(), 200, "/"))
	appendLines(t, errLog, time.Now().UTC().Format("2006/01/02 15:04:05")+" [notice] 1#1: start worker processes")
	_, port, _ := net.SplitHostPort(receivers.FreeAddr(t))
	metricsPort, _ := strconv.Atoi(port)
	ag := startAgent(t, bin, dir, agentConfig{StateDir: filepath.Join(dir, "state"), NginxAccess: []string{access}, NginxError: []string{errLog},
		MetricsPort: metricsPort,
		ExtraSinks:  fmt.Sprintf("\n[[sinks]]\ntype = \"alertmanager\"\nname = \"paging\"\nurl = %q\nbatch_wait = \"100ms\"\nretry_max = \"1s\"\n", am)}, nil)
	ag.waitReady(t)
	defer stopAgent(t, ag)
	// The sources choose where to start (the end of each file) just after
	// the agent is ready: lines written before that would be skipped.
	for _, f := range []string{access, errLog} {
		if !ag.waitStderr(10*time.Second, regexp.MustCompile(`reading from the end" path=`+regexp.QuoteMeta(f))) {
			t.Fatalf("the agent did not start reading %s:\n%s", f, ag.stderr.String())
		}
	}

	first := time.Now()
	outage(t, access, errLog, 6)
	var fired receivers.Alert
	for deadline := time.Now().Add(30 * time.Second); fired.Labels == nil; time.Sleep(100 * time.Millisecond) {
		for _, a := range receivers.ActiveAlerts(t, am) {
			if a.Labels["cause"] == string(correlate.CauseUpstreamDown) && a.Labels["alertname"] == "OriginAgentIncident" {
				fired = a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no upstream_down alert in Alertmanager 30 s after the first 502; agent log:\n%s", ag.stderr.String())
		}
	}
	t.Logf("alert fired %v after the first 502 (target: 10 s)", time.Since(first).Round(10*time.Millisecond))
	if fired.Labels["host"] != e2eHost || fired.Labels["severity"] != "critical" || fired.Annotations["fix"] == "" || fired.Annotations["evidence"] == "" {
		t.Errorf("alert: labels %v, annotations %v", fired.Labels, fired.Annotations)
	}
	// gap 5 s + settle: the incident closes, its closed finding resolves the alert.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		active := 0
		for _, a := range receivers.ActiveAlerts(t, am) {
			if a.Labels["incident_id"] == fired.Labels["incident_id"] {
				active++
			}
		}
		if active == 0 {
			t.Logf("alert resolved %v after the first 502", time.Since(first).Round(10*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the alert is still active 30 s after the outage ended")
		}
	}
}
