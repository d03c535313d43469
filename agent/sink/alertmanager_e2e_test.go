package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/internal/receivers"
)

// TestAlertmanagerE2E: against a real Alertmanager, an opened incident
// fires an alert labelled with its cause, host and severity (annotations:
// summary, fix, evidence), re-sending keeps it active past its first
// endsAt, and the closed finding resolves it; a failing check likewise.
func TestAlertmanagerE2E(t *testing.T) {
	base := receivers.StartAlertmanager(t)
	cfg := def(Config{Type: TypeAlertmanager, URL: base, Labels: map[string]string{"env": "prod"}})
	s := newAlertmanagerEvery(cfg, Deps{Redact: RedactConfig{}}.withDefaults(), time.Second)
	defer s.Close()
	ctx := context.Background()

	inc := testFinding("5f1c2a9e-opened")
	inc.State = finding.StateOpened
	inc.Start = time.Now().Add(-2 * time.Second).UTC()
	inc.End = time.Now().UTC()
	inc.Scope = correlate.Scope{Sites: []string{"shop.example.com", "blog.example.com"}}
	if err := s.Send(ctx, []finding.Finding{inc}); err != nil {
		t.Fatal(err)
	}
	as := receivers.ActiveAlerts(t, base)
	if len(as) != 1 {
		t.Fatalf("active alerts after the opened finding: %+v, want 1", as)
	}
	a := as[0]
	for k, want := range map[string]string{"alertname": "OriginAgentIncident", "cause": string(correlate.CauseOOMKill),
		"host": "web1.example.com", "severity": "critical", "incident_id": inc.IncidentID, "env": "prod", "site": "shop.example.com"} {
		if a.Labels[k] != want {
			t.Errorf("label %s = %q, want %q (labels %v)", k, a.Labels[k], want, a.Labels)
		}
	}
	if a.Annotations["summary"] == "" || a.Annotations["fix"] == "" || a.Annotations["evidence"] == "" {
		t.Errorf("annotations: %v, want summary, fix and evidence", a.Annotations)
	}
	// endsAt was now + 3 s: without re-sending the alert would resolve.
	time.Sleep(5 * time.Second)
	if as := receivers.ActiveAlerts(t, base); len(as) != 1 {
		t.Fatalf("an open incident's alert resolved although it was re-sent: %+v", as)
	}

	// A failing check is its own alert.
	chk := finding.FromCheck("web1.example.com", "listener.80", correlate.CauseListenerDown, finding.StateFailing,
		time.Now().Add(-time.Second), time.Now(), "nothing listens on port 80", "start nginx", nil)
	if err := s.Send(ctx, []finding.Finding{chk}); err != nil {
		t.Fatal(err)
	}
	if as := receivers.ActiveAlerts(t, base); len(as) != 2 {
		t.Fatalf("active alerts with a failing check: %d, want 2", len(as))
	}

	closed := inc
	closed.ID, closed.State, closed.End = inc.IncidentID+"-closed", finding.StateClosed, time.Now().UTC()
	resolved := chk
	resolved.ID, resolved.State = chk.IncidentID+"-resolved", finding.StateResolved
	if err := s.Send(ctx, []finding.Finding{closed, resolved}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // a resend tick must not bring them back
	if as := receivers.ActiveAlerts(t, base); len(as) != 0 {
		t.Errorf("alerts still active after the incident closed and the check resolved: %s", fmt.Sprint(as))
	}
}
