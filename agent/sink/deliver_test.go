package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
)

// runDeliverer appends findings, runs a deliverer until the spool is empty
// (or 20 s pass) and returns its metrics.
func runDeliverer(t *testing.T, s Sink, fs []finding.Finding, batchSize int) (*Metrics, *spool.Spool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	for _, f := range fs {
		if err := sp.Append(f); err != nil {
			t.Fatal(err)
		}
	}
	d := NewDeliverer("test", sp, s, DeliverOptions{BatchSize: batchSize, BatchWait: 10 * time.Millisecond,
		Timeout: 5 * time.Second, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for i := 0; i < 2000 && sp.Len() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	return m, sp
}

func TestDelivererRetriesUntilConfirmed(t *testing.T) {
	fail := func([]finding.Finding) error { return errors.New("connection refused") }
	s := &fakeSink{results: []func([]finding.Finding) error{fail, fail, fail}}
	m, sp := runDeliverer(t, s, testBatch(5), 3)
	batches, ok := s.snapshot()
	if sp.Len() != 0 {
		t.Fatalf("spool still holds %d", sp.Len())
	}
	// Same first batch four times (3 failures), then the rest, in order.
	want := "[000 001 002] [000 001 002] [000 001 002] [000 001 002] [003 004]"
	if got := short(batches); got != want {
		t.Errorf("batches = %s, want %s", got, want)
	}
	if len(ok) != 5 {
		t.Errorf("confirmed %v", ok)
	}
	for name, want := range map[string]float64{"sent": 5, "failed": 9, "retried": 3} {
		var c prometheus.Collector
		switch name {
		case "sent":
			c = m.Sent
		case "failed":
			c = m.Failed
		case "retried":
			c = m.Retried
		}
		if got := testutil.ToFloat64(c); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.Latency); n != 1 {
		t.Errorf("latency histogram series = %d", n)
	}
}

func TestDelivererDropsPermanent(t *testing.T) {
	s := &fakeSink{results: []func([]finding.Finding) error{
		func([]finding.Finding) error { return Permanent(errors.New("HTTP 400: bad payload")) },
	}}
	m, sp := runDeliverer(t, s, testBatch(4), 2)
	batches, ok := s.snapshot()
	if got := short(batches); got != "[000 001] [002 003]" {
		t.Errorf("batches = %s (a permanent error must not be retried)", got)
	}
	if strings.Join(ok, ",") != "5f1c2a9e-002,5f1c2a9e-003" || sp.Len() != 0 {
		t.Errorf("confirmed %v, spool %d", ok, sp.Len())
	}
	if got := testutil.ToFloat64(m.Dropped.WithLabelValues("test", "permanent")); got != 2 {
		t.Errorf("dropped{permanent} = %v, want 2", got)
	}
}

func TestDelivererPartialBatch(t *testing.T) {
	// Item 1 fails retryably (429), item 2 permanently (400): 0 and 3 are
	// confirmed, 2 dropped, 1 sent again alone.
	s := &fakeSink{results: []func([]finding.Finding) error{
		func([]finding.Finding) error {
			return &BatchError{Items: []ItemError{
				{Index: 1, Err: errors.New("status 429")},
				{Index: 2, Err: Permanent(errors.New("status 400 mapper_parsing_exception"))},
			}}
		},
	}}
	m, sp := runDeliverer(t, s, testBatch(4), 4)
	batches, ok := s.snapshot()
	if got := short(batches); got != "[000 001 002 003] [001]" {
		t.Errorf("batches = %s", got)
	}
	if strings.Join(ok, ",") != "5f1c2a9e-000,5f1c2a9e-003,5f1c2a9e-001" || sp.Len() != 0 {
		t.Errorf("confirmed %v, spool %d", ok, sp.Len())
	}
	if got := testutil.ToFloat64(m.Dropped.WithLabelValues("test", "permanent")); got != 1 {
		t.Errorf("dropped{permanent} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Sent); got != 3 {
		t.Errorf("sent = %v, want 3", got)
	}
}

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	d := NewDeliverer("x", nil, nil, DeliverOptions{BackoffMin: 100 * time.Millisecond, BackoffMax: 30 * time.Second})
	for _, tc := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{30, 15 * time.Second, 30 * time.Second},
	} {
		for range 50 {
			if b := d.backoff(tc.attempt); b < tc.min || b > tc.max {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", tc.attempt, b, tc.min, tc.max)
			}
		}
	}
}

func short(batches [][]string) string {
	var parts []string
	for _, b := range batches {
		var s []string
		for _, id := range b {
			s = append(s, strings.TrimPrefix(id, "5f1c2a9e-"))
		}
		parts = append(parts, fmt.Sprint(s))
	}
	return strings.Join(parts, " ")
}
