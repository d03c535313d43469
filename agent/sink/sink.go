// Package sink ships findings to central logging: stdout, a rotated JSON-lines
// file, syslog (RFC 5424 over UDP, TCP or TLS), Loki, Elasticsearch/OpenSearch
// and a generic JSON webhook.
//
// Wiring (done by the agent): build one Metrics per registry with NewMetrics,
// then for each [[sinks]] table call New. Local sinks (stdout, file) are
// called directly. Network sinks get a disk spool each (package
// agent/sink/spool) and a Deliverer that drains the spool into the sink:
//
//	m, _ := sink.NewMetrics(reg)
//	s, _ := sink.New(cfg, sink.Deps{Log: log, Metrics: m, Hostname: host})
//	if sink.Spooled(cfg) {
//		sp, _ := spool.Open(filepath.Join(stateDir, "spool", cfg.Identity()), int64(cfg.SpoolMaxBytes),
//			spool.WithDropHook(m.DropHook(cfg.Identity(), log)))
//		d := sink.NewDeliverer(cfg.Identity(), sp, s, sink.DeliverOptionsFrom(cfg, deps))
//		go d.Run(ctx)        // returns when ctx ends
//		// pipeline: sp.Append(f) — returns after fsync; only then is f accepted.
//	} else {
//		s.Send(ctx, []finding.Finding{f})
//	}
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// Sink is one destination for findings.
//
// Send delivers a batch. It returns nil only when the destination confirmed
// every finding of the batch (for Elasticsearch: every item of the _bulk
// answer). A non-nil error is retryable unless IsPermanent reports true
// (e.g. HTTP 400: the destination rejected the payload and will reject it
// again). When only some findings failed, the error is (or wraps) a
// *BatchError that lists them; the others were confirmed.
//
// Send does not retry and does not sleep: the Deliverer retries, with
// backoff, from the spool. Send honours ctx (deadline = the sink's timeout).
// Send is not called concurrently on one Sink.
//
// Close releases connections and files; Send must not be called after it.
type Sink interface {
	Send(ctx context.Context, batch []finding.Finding) error
	Close() error
}

// Reopener is implemented by sinks that write local files: Reopen closes and
// reopens the file (SIGHUP after logrotate moved it away).
type Reopener interface {
	Reopen() error
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not retryable: the batch (or item) is dropped,
// logged and counted. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or an error it wraps) was marked by
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// ItemError is the failure of one finding of a batch.
type ItemError struct {
	Index int   // position in the batch given to Send
	Err   error // IsPermanent(Err) says whether to drop it
}

// BatchError says that some findings of a batch failed; every finding whose
// index is not listed was confirmed by the destination.
type BatchError struct {
	Items []ItemError
}

func (e *BatchError) Error() string {
	if len(e.Items) == 0 {
		return "batch: no failed items"
	}
	return fmt.Sprintf("%d of the batch failed, first (item %d): %v", len(e.Items), e.Items[0].Index, e.Items[0].Err)
}

// Deps are what sinks need from the agent.
type Deps struct {
	Log      *slog.Logger // nil: discard
	Metrics  *Metrics     // nil: metrics are kept but not exported
	Hostname string       // the syslog HOSTNAME and the Loki "host" label fallback
	// Now is the clock for records without their own time; nil: time.Now.
	Now func() time.Time
	// Redact says what to hide before findings leave the host ([privacy]).
	Redact RedactConfig
}

func (d Deps) withDefaults() Deps {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = newMetricsUnregistered()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// New builds the sink described by cfg, which carries its own defaults
// (config.DefaultSink) and passes config's checks. The returned sink redacts
// evidence and summaries (see Redactor) unless deps.Redact.Disabled.
func New(cfg Config, deps Deps) (Sink, error) {
	deps = deps.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	name := cfg.Identity()
	var (
		s   Sink
		err error
	)
	switch cfg.Type {
	case TypeStdout:
		s = newStdout(deps)
	case TypeFile:
		s, err = newFile(cfg)
	case TypeSyslog:
		s, err = newSyslog(cfg, deps)
	case TypeLoki:
		s, err = newLoki(cfg, deps)
	case TypeElasticsearch:
		s, err = newElastic(cfg, deps)
	case TypeHTTP:
		s, err = newWebhook(cfg, deps)
	case TypeAlertmanager:
		s, err = newAlertmanager(cfg, deps)
	case TypeOTLP:
		s, err = newOTLP(cfg, deps)
	default:
		return nil, fmt.Errorf("sink %q: unknown type %q (want stdout, file, syslog, loki, elasticsearch, http, alertmanager or otlp)", name, cfg.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("sink %q (%s): %w", name, cfg.Type, err)
	}
	if deps.Redact.Disabled {
		return s, nil
	}
	return &redacting{Sink: s, r: NewRedactor(deps.Redact.ExtraParams)}, nil
}

// redacting applies a Redactor to copies of the findings before the inner
// sink sees them.
type redacting struct {
	Sink
	r *Redactor
}

func (s *redacting) Send(ctx context.Context, batch []finding.Finding) error {
	out := make([]finding.Finding, len(batch))
	for i, f := range batch {
		out[i] = s.r.Finding(f)
	}
	return s.Sink.Send(ctx, out)
}

// Reopen forwards to the inner sink when it is a Reopener.
func (s *redacting) Reopen() error {
	if r, ok := s.Sink.(Reopener); ok {
		return r.Reopen()
	}
	return nil
}
