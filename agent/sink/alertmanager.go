package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// alertmanagerSink turns findings into Prometheus Alertmanager alerts
// (API v2: POST {url}/api/v2/alerts, a JSON array of postable alerts), so
// that Alertmanager does what paging needs: routing by severity, grouping,
// silences, inhibition, Slack, e-mail, PagerDuty.
//
// One alert per incident or check, identified by its labels
//
//	alertname = OriginAgentIncident | OriginAgentCheck | OriginAgentHealth
//	cause, severity, host, incident_id, and site / check when known,
//	plus the sink's static labels
//
// with annotations summary, fix and evidence (the first evidence line) and no
// generatorURL (nothing external to link to). An opened or updated incident
// and a failing check fire the alert with endsAt = now + 3 × resend; the sink
// re-sends every open alert each resend interval (Alertmanager resolves an
// alert that is not re-sent before its endsAt, as it does for Prometheus), so
// an alert lives exactly as long as its incident — and a crashed agent's
// alerts resolve by themselves. A closed incident or a resolved check sends
// the alert once more with endsAt = its end: resolved.
//
// Delivered means Alertmanager answered 2xx for the batch.
type alertmanagerSink struct {
	url    string
	labels map[string]string
	p      *poster
	now    func() time.Time
	log    *slog.Logger
	resend time.Duration

	mu   sync.Mutex
	open map[string]amAlert // by incident id: alerts to re-send

	stop chan struct{}
	done chan struct{}
}

// amAlert is Alertmanager's postableAlert.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertmanagerResend is how often open alerts are re-sent: Prometheus's own
// default (its rules' resend delay is 1 m).
const alertmanagerResend = time.Minute

func newAlertmanager(cfg Config, deps Deps) (*alertmanagerSink, error) {
	return newAlertmanagerEvery(cfg, deps, alertmanagerResend), nil
}

// newAlertmanagerEvery is newAlertmanager with another resend interval.
func newAlertmanagerEvery(cfg Config, deps Deps, resend time.Duration) *alertmanagerSink {
	s := &alertmanagerSink{
		url: endpoint(cfg.URL, "/api/v2/alerts"), labels: cfg.Labels, p: newPoster(cfg),
		now: deps.Now, log: deps.Log, resend: resend,
		open: map[string]amAlert{}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.resendLoop()
	return s
}

// alertOf builds the alert of f: firing unless f closes its incident or
// resolves its check.
func (s *alertmanagerSink) alertOf(f finding.Finding, now time.Time) (a amAlert, resolved bool) {
	name := "OriginAgentIncident"
	switch f.Kind {
	case finding.KindCheck:
		name = "OriginAgentCheck"
	case finding.KindIncident:
	default:
		name = "OriginAgent" + strings.ToUpper(string(f.Kind[:1])) + string(f.Kind[1:])
	}
	lb := make(map[string]string, len(s.labels)+7)
	for k, v := range s.labels {
		lb[k] = v
	}
	lb["alertname"], lb["cause"], lb["severity"], lb["host"], lb["incident_id"] = name, string(f.Cause), string(f.Severity), f.Host, f.IncidentID
	if f.Check != "" {
		lb["check"] = f.Check
	}
	if site := siteOf(f); site != "" {
		lb["site"] = site
	}
	ann := map[string]string{"summary": finding.MessageOf(f)}
	if f.Remediation != "" {
		ann["fix"] = f.Remediation
	}
	if len(f.Evidence) > 0 {
		ev := f.Evidence[0]
		ann["evidence"] = ev.Path + ": " + ev.Text
	}
	start := f.Start
	if start.IsZero() {
		start = now
	}
	a = amAlert{Labels: lb, Annotations: ann, StartsAt: start.UTC()}
	resolved = f.State == finding.StateClosed || f.State == finding.StateResolved
	if resolved {
		end := f.End
		if end.IsZero() || end.Before(start) {
			end = now
		}
		a.EndsAt = end.UTC()
	} else {
		a.EndsAt = now.Add(3 * s.resend).UTC()
	}
	return a, resolved
}

// siteOf is the incident's most affected site (its scope's first), "" when
// none: as the Loki sink's site label.
func siteOf(f finding.Finding) string {
	if len(f.Scope.Sites) > 0 {
		return f.Scope.Sites[0]
	}
	return ""
}

func (s *alertmanagerSink) Send(ctx context.Context, batch []finding.Finding) error {
	if len(batch) == 0 {
		return nil
	}
	now := s.now()
	alerts := make([]amAlert, 0, len(batch))
	type change struct {
		id       string
		a        amAlert
		resolved bool
	}
	changes := make([]change, 0, len(batch))
	for _, f := range batch {
		a, resolved := s.alertOf(f, now)
		alerts = append(alerts, a)
		changes = append(changes, change{f.IncidentID, a, resolved})
	}
	if err := s.post(ctx, alerts); err != nil {
		return err
	}
	s.mu.Lock()
	for _, c := range changes {
		if c.resolved {
			delete(s.open, c.id)
		} else {
			s.open[c.id] = c.a
		}
	}
	s.mu.Unlock()
	return nil
}

func (s *alertmanagerSink) post(ctx context.Context, alerts []amAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return Permanent(fmt.Errorf("encode alerts: %w", err))
	}
	_, err = s.p.post(ctx, s.url, "application/json", body)
	return err
}

// resendLoop re-sends the open alerts with a fresh endsAt every resend
// interval until Close.
func (s *alertmanagerSink) resendLoop() {
	defer close(s.done)
	t := time.NewTicker(s.resend)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.resendOpen()
	}
}

func (s *alertmanagerSink) resendOpen() {
	now := s.now()
	s.mu.Lock()
	alerts := make([]amAlert, 0, len(s.open))
	for id, a := range s.open {
		a.EndsAt = now.Add(3 * s.resend).UTC()
		s.open[id] = a
		alerts = append(alerts, a)
	}
	s.mu.Unlock()
	if len(alerts) == 0 {
		return
	}
	sort.Slice(alerts, func(i, j int) bool { return alerts[i].StartsAt.Before(alerts[j].StartsAt) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.post(ctx, alerts); err != nil {
		s.log.Warn("sink: re-sending open alerts to Alertmanager failed; the next try is in one interval", "url", s.url, "alerts", len(alerts), "err", err)
	}
}

func (s *alertmanagerSink) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.p.client.CloseIdleConnections()
	return nil
}
