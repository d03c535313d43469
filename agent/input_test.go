package agent

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
)

// numbers is a Reader that sends 1..n, then waits for the end, or fails.
type numbers struct {
	n   int
	err error
}

func (r numbers) Run(ctx context.Context, out chan<- int) error {
	for i := 1; i <= r.n; i++ {
		select {
		case out <- i:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.err != nil {
		return r.err
	}
	<-ctx.Done()
	return ctx.Err()
}

// evens converts even numbers to kernel inputs and drops the others.
func evens(i int) (correlate.Input, bool) {
	if i%2 != 0 {
		return correlate.Input{}, false
	}
	return correlate.Input{Type: parsers.TypeKernel, Line: int64(i)}, true
}

func TestPump(t *testing.T) {
	p := &Pump[int]{Label: "numbers", Reader: numbers{n: 6}, Convert: evens}
	out := make(chan Item, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, out) }()
	for _, want := range []int64{2, 4, 6} {
		select {
		case it := <-out:
			if it.Input.Line != want || it.Source != "numbers" {
				t.Fatalf("got %+v, want line %d from numbers", it, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no input")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("cancelled: %v, want nil", err)
	}

	broken := errors.New("device gone")
	p = &Pump[int]{Label: "numbers", Reader: numbers{err: broken}, Convert: evens}
	if err := p.Run(context.Background(), out); !errors.Is(err, broken) {
		t.Errorf("reader failed: %v, want %v", err, broken)
	}
}

// Inputs from a pumped source reach the correlator and are counted per
// source in origin_agent_source_inputs_total, present at zero from the
// start.
func TestSourceInputsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	idle := &Pump[int]{Label: "idle", Reader: numbers{}, Convert: evens}
	busy := &Pump[int]{Label: "busy", Reader: numbers{n: 10}, Convert: evens}
	a, stop := startAgent(t, Options{StateDir: t.TempDir(), Extra: []InputSource{idle, busy}, Registry: reg})
	inputs := a.metrics.inputs
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(inputs.WithLabelValues("busy")) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if got := testutil.ToFloat64(inputs.WithLabelValues("busy")); got != 5 {
		t.Errorf("busy: %v inputs counted, want 5", got)
	}
	n, err := testutil.GatherAndCount(reg, "origin_agent_source_inputs_total")
	if err != nil || n != 2 {
		t.Errorf("series of origin_agent_source_inputs_total: %d (%v), want idle and busy", n, err)
	}
}

// slowCheck takes a while to stop once cancelled, like an audit that is
// changing iptables.
type slowCheck struct{ finished atomic.Bool }

func (c *slowCheck) Name() string { return "slow" }
func (c *slowCheck) Run(ctx context.Context) []checks.Check {
	<-ctx.Done()
	time.Sleep(200 * time.Millisecond)
	c.finished.Store(true)
	return nil
}

// Run returns only after the checks it started have returned.
func TestRunJoinsChecks(t *testing.T) {
	c := &slowCheck{}
	a, err := New(Options{StateDir: t.TempDir(), Checks: []checks.Checker{c}, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !c.finished.Load() {
		t.Error("Run returned while a check was still running")
	}
}

// A reload keeps the registry and what was counted on it, and builds no
// second set of metrics.
func TestReconfigureKeepsMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	a, err := New(Options{StateDir: dir, Registry: reg, Host: "one"})
	if err != nil {
		t.Fatal(err)
	}
	a.metrics.incidents.WithLabelValues("oom_kill").Inc()
	if err := a.Reconfigure(Options{StateDir: dir, Host: "two", Registry: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	if a.opt.Registry != reg || a.opt.Host != "two" {
		t.Errorf("after reload: registry kept %v, host %q", a.opt.Registry == reg, a.opt.Host)
	}
	if got := testutil.ToFloat64(a.metrics.incidents.WithLabelValues("oom_kill")); got != 1 {
		t.Errorf("incidents counted before the reload: %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "origin_agent_incidents_total"); err != nil || n != 1 {
		t.Errorf("registry after reload: %d series (%v)", n, err)
	}
}
