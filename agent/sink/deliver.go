package sink

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
)

// DeliverOptions tune a Deliverer. A sink's come from its config
// (DeliverOptionsFrom); zero values take a network sink's defaults
// (config.DefaultSink), the one set of defaults there is.
type DeliverOptions struct {
	BatchSize   int           // findings per Send (batch_size)
	BatchWait   time.Duration // how long a partial batch waits to fill (batch_wait)
	Timeout     time.Duration // per Send (timeout)
	BackoffMin  time.Duration // first retry delay; default 500ms (no config key)
	BackoffMax  time.Duration // longest retry delay (retry_max)
	Log         *slog.Logger  // nil: discard
	Metrics     *Metrics
	OnDelivered func([]spool.Entry) // optional: called after confirmed entries were removed (tests, latency probes)
}

// DeliverOptionsFrom takes batch, timeout and backoff settings from cfg.
func DeliverOptionsFrom(cfg Config, deps Deps) DeliverOptions {
	return DeliverOptions{BatchSize: cfg.BatchSize, BatchWait: cfg.BatchWait.D(), Timeout: cfg.Timeout.D(),
		BackoffMax: cfg.RetryMax.D(), Log: deps.Log, Metrics: deps.Metrics}
}

// Deliverer drains one spool into one sink: it reads the oldest entries,
// sends them in batches, and removes them from the spool only after the sink
// confirmed them. Retryable failures are retried with exponential backoff
// and jitter, forever, until Run's context ends; findings a destination
// rejects permanently are removed, logged and counted (dropped, reason
// "permanent"). Order is kept: a failing batch holds back the ones after it.
type Deliverer struct {
	name string
	sp   *spool.Spool
	s    Sink
	o    DeliverOptions
}

// NewDeliverer returns the deliverer for sink s (named name in metrics and
// logs) reading from sp. It does not own sp or s: the caller closes them
// after Run returned.
func NewDeliverer(name string, sp *spool.Spool, s Sink, o DeliverOptions) *Deliverer {
	def := DeliverOptionsFrom(config.DefaultSink(TypeHTTP), Deps{})
	if o.BatchSize <= 0 {
		o.BatchSize = def.BatchSize
	}
	if o.BatchWait <= 0 {
		o.BatchWait = def.BatchWait
	}
	if o.Timeout <= 0 {
		o.Timeout = def.Timeout
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = def.BackoffMax
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = newMetricsUnregistered()
	}
	return &Deliverer{name: name, sp: sp, s: s, o: o}
}

// Run delivers until ctx ends, then returns ctx's error. Entries not yet
// confirmed stay in the spool for the next run.
func (d *Deliverer) Run(ctx context.Context) error {
	attempt := 0 // consecutive failed attempts
	for {
		d.o.Metrics.Queued.WithLabelValues(d.name).Set(float64(d.sp.Len()))
		batch, err := d.nextBatch(ctx)
		if err != nil {
			return err
		}
		if attempt > 0 {
			d.o.Metrics.Retried.WithLabelValues(d.name).Inc()
		}
		if d.deliver(ctx, batch) {
			attempt = 0
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		attempt++
		if err := sleep(ctx, d.backoff(attempt)); err != nil {
			return err
		}
	}
}

// nextBatch waits for entries, then up to BatchWait for a full batch.
func (d *Deliverer) nextBatch(ctx context.Context) ([]spool.Entry, error) {
	var deadline <-chan time.Time
	for {
		es, err := d.sp.Peek(d.o.BatchSize)
		if err != nil {
			d.o.Log.Error("sink spool read failed", "sink", d.name, "err", err)
			if err := sleep(ctx, d.o.BackoffMax); err != nil {
				return nil, err
			}
			continue
		}
		if len(es) >= d.o.BatchSize {
			return es, nil
		}
		if len(es) > 0 && deadline == nil {
			t := time.NewTimer(d.o.BatchWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.sp.Notify():
		case <-deadline:
			if es, err = d.sp.Peek(d.o.BatchSize); err == nil && len(es) > 0 {
				return es, nil
			}
			deadline = nil
		}
	}
}

// deliver sends one batch and settles the spool. It reports whether the
// whole batch is settled (confirmed or permanently dropped).
func (d *Deliverer) deliver(ctx context.Context, es []spool.Entry) bool {
	batch := make([]finding.Finding, len(es))
	for i, e := range es {
		batch[i] = e.Finding
	}
	sctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	err := d.s.Send(sctx, batch)
	cancel()

	var done, confirmed []spool.Entry
	var retry int
	var be *BatchError
	switch {
	case err == nil:
		done, confirmed = es, es
	case errors.As(err, &be) && len(be.Items) > 0:
		failed := make(map[int]error, len(be.Items))
		for _, it := range be.Items {
			failed[it.Index] = it.Err
		}
		for i, e := range es {
			ierr, bad := failed[i]
			switch {
			case !bad:
				done, confirmed = append(done, e), append(confirmed, e)
			case IsPermanent(ierr):
				done = append(done, e)
				d.drop(e, ierr)
			default:
				retry++
			}
		}
		if retry > 0 {
			d.o.Metrics.Failed.WithLabelValues(d.name).Add(float64(retry))
			d.o.Log.Warn("sink: some findings failed, will retry", "sink", d.name, "failed", retry, "batch", len(es), "err", err)
		}
	case IsPermanent(err):
		done = es
		for _, e := range es {
			d.drop(e, err)
		}
	default:
		retry = len(es)
		d.o.Metrics.Failed.WithLabelValues(d.name).Add(float64(len(es)))
		var rej *RejectedError
		if errors.As(err, &rej) {
			d.o.Metrics.Rejected.WithLabelValues(d.name).Inc()
			d.o.Log.Error("sink: the destination rejects every request (HTTP "+strconv.Itoa(rej.Code)+"); findings stay spooled until the sink's url, tenant, credentials or headers are fixed",
				"sink", d.name, "queued", d.sp.Len(), "err", err)
		} else {
			d.o.Log.Warn("sink: send failed, will retry", "sink", d.name, "batch", len(es), "err", err)
		}
	}
	if len(done) > 0 {
		seqs := make([]uint64, len(done))
		for i, e := range done {
			seqs[i] = e.Seq
		}
		if rerr := d.sp.Remove(seqs...); rerr != nil {
			// Delivered but still spooled: they will be sent again (at-least-once).
			d.o.Log.Error("sink: remove delivered findings from spool", "sink", d.name, "err", rerr)
			return false
		}
	}
	now := time.Now()
	for _, e := range confirmed {
		d.o.Metrics.Latency.WithLabelValues(d.name).Observe(now.Sub(e.Appended).Seconds())
	}
	d.o.Metrics.Sent.WithLabelValues(d.name).Add(float64(len(confirmed)))
	if d.o.OnDelivered != nil && len(confirmed) > 0 {
		d.o.OnDelivered(confirmed)
	}
	return retry == 0
}

func (d *Deliverer) drop(e spool.Entry, err error) {
	d.o.Metrics.Dropped.WithLabelValues(d.name, "permanent").Inc()
	d.o.Log.Error("sink: destination rejected finding, dropped", "sink", d.name, "id", e.Finding.ID, "err", err)
}

// backoff is exponential from BackoffMin, capped at BackoffMax, with equal
// jitter (half fixed, half random) so a fleet does not retry in lockstep.
func (d *Deliverer) backoff(attempt int) time.Duration {
	b := d.o.BackoffMin
	for i := 1; i < attempt && b < d.o.BackoffMax; i++ {
		b *= 2
	}
	b = min(b, d.o.BackoffMax)
	half := b / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
