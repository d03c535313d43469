package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// otlpSink exports findings as OpenTelemetry logs over OTLP/HTTP with
// protobuf bodies (the encoding every OTLP receiver takes; VictoriaLogs
// takes only it): POST {url}/v1/logs, Content-Type application/x-protobuf.
// The body is a LogsData message, which has the wire form of the
// ExportLogsServiceRequest the collector's service expects (both are
// "repeated ResourceLogs resource_logs = 1").
//
// One resource (service.name = origin-agent, host.name) and scope per
// request; one log record per finding: time = the finding's end (start, or
// now), severity critical → FATAL, warning → WARN, info → INFO with the
// agent's word as severity text, body = the one-line message, attributes =
// the finding's fields (cause, severity, kind, state, id, incident_id,
// check, confidence, remediation, statuses.<code>, evidence.first) plus
// finding.json, the whole finding.
//
// Delivered means a 2xx answer. A partial success (some records rejected
// by the receiver) cannot be tied to findings: it is logged, and not
// retried, as the OTLP specification asks.
type otlpSink struct {
	url  string
	host string
	now  func() time.Time
	log  *slog.Logger
	p    *poster
}

func newOTLP(cfg Config, deps Deps) (*otlpSink, error) {
	return &otlpSink{url: endpoint(cfg.URL, "/v1/logs"), host: deps.Hostname, now: deps.Now, log: deps.Log, p: newPoster(cfg)}, nil
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// otlpSeverity maps the agent's severities onto OpenTelemetry's numbers.
func otlpSeverity(s finding.Severity) logspb.SeverityNumber {
	switch s {
	case finding.SeverityCritical:
		return logspb.SeverityNumber_SEVERITY_NUMBER_FATAL
	case finding.SeverityWarning:
		return logspb.SeverityNumber_SEVERITY_NUMBER_WARN
	case finding.SeverityInfo:
		return logspb.SeverityNumber_SEVERITY_NUMBER_INFO
	}
	return logspb.SeverityNumber_SEVERITY_NUMBER_UNSPECIFIED
}

// otlpBody builds the protobuf request for a batch.
func (s *otlpSink) otlpBody(batch []finding.Finding) ([]byte, error) {
	host := s.host
	if len(batch) > 0 && batch[0].Host != "" {
		host = batch[0].Host
	}
	now := uint64(s.now().UnixNano())
	recs := make([]*logspb.LogRecord, 0, len(batch))
	for _, f := range batch {
		js, err := json.Marshal(f)
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode finding %s: %w", f.ID, err))
		}
		ts := f.End
		if ts.IsZero() {
			ts = f.Start
		}
		t := now
		if !ts.IsZero() {
			t = uint64(ts.UnixNano())
		}
		attrs := []*commonpb.KeyValue{
			str("cause", string(f.Cause)), str("severity", string(f.Severity)), str("kind", string(f.Kind)),
			str("state", string(f.State)), str("id", f.ID), str("incident_id", f.IncidentID),
			{Key: "confidence", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f.Confidence}}},
		}
		if f.Host != "" && f.Host != host {
			attrs = append(attrs, str("host.name", f.Host))
		}
		if f.Check != "" {
			attrs = append(attrs, str("check", f.Check))
		}
		if f.Remediation != "" {
			attrs = append(attrs, str("remediation", f.Remediation))
		}
		for code, n := range f.Statuses {
			attrs = append(attrs, &commonpb.KeyValue{Key: "statuses." + code, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(n)}}})
		}
		if len(f.Evidence) > 0 {
			attrs = append(attrs, str("evidence.first", f.Evidence[0].Path+": "+f.Evidence[0].Text))
		}
		attrs = append(attrs, str("finding.json", string(js)))
		recs = append(recs, &logspb.LogRecord{
			TimeUnixNano: t, ObservedTimeUnixNano: now,
			SeverityNumber: otlpSeverity(f.Severity), SeverityText: string(f.Severity),
			Body:       &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: finding.MessageOf(f)}},
			Attributes: attrs,
		})
	}
	data := &logspb.LogsData{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "origin-agent"), str("host.name", host)}},
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope:      &commonpb.InstrumentationScope{Name: "origin-agent"},
			LogRecords: recs,
		}},
	}}}
	b, err := proto.Marshal(data)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode OTLP logs: %w", err))
	}
	return b, nil
}

func (s *otlpSink) Send(ctx context.Context, batch []finding.Finding) error {
	if len(batch) == 0 {
		return nil
	}
	body, err := s.otlpBody(batch)
	if err != nil {
		return err
	}
	answer, err := s.p.post(ctx, s.url, "application/x-protobuf", body)
	if err != nil {
		return err
	}
	if rejected, msg := otlpPartialSuccess(answer); rejected > 0 {
		s.log.Warn("sink: the OTLP receiver rejected some log records (partial success; not retried, as OTLP asks)",
			"url", s.url, "rejected", rejected, "of", len(batch), "message", msg)
	}
	return nil
}

// otlpPartialSuccess reads ExportLogsServiceResponse.partial_success
// (field 1: rejected_log_records = 1, error_message = 2) from a protobuf
// answer; a JSON or empty answer gives 0.
func otlpPartialSuccess(b []byte) (rejected int64, msg string) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, ""
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return 0, ""
			}
			b = b[n:]
			continue
		}
		ps, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return 0, ""
		}
		b = b[n:]
		for len(ps) > 0 {
			pn, pt, m := protowire.ConsumeTag(ps)
			if m < 0 {
				return rejected, msg
			}
			ps = ps[m:]
			switch {
			case pn == 1 && pt == protowire.VarintType:
				v, m := protowire.ConsumeVarint(ps)
				if m < 0 {
					return rejected, msg
				}
				rejected, ps = int64(v), ps[m:]
			case pn == 2 && pt == protowire.BytesType:
				v, m := protowire.ConsumeBytes(ps)
				if m < 0 {
					return rejected, msg
				}
				msg, ps = string(v), ps[m:]
			default:
				if m = protowire.ConsumeFieldValue(pn, pt, ps); m < 0 {
					return rejected, msg
				}
				ps = ps[m:]
			}
		}
	}
	return rejected, msg
}

func (s *otlpSink) Close() error { s.p.client.CloseIdleConnections(); return nil }
