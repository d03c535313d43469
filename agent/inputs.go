package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/source/journal"
	"github.com/origin-agent/origin-agent/agent/source/kmsg"
	"github.com/origin-agent/origin-agent/agent/source/oomwatch"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/kernel"
)

// Adapters from the kernel and cgroup readers to the agent's InputSource.

// KmsgSource reads /dev/kmsg.
type KmsgSource struct {
	R *kmsg.Reader

	overruns prometheus.Counter // set by Agent.Run: origin_agent_kmsg_overruns_total

	once     sync.Once
	replayed chan struct{}
}

func (k *KmsgSource) Name() string { return "kmsg" }

// Replayed is closed once the records the kernel's buffer held at start
// (kmsg.StartRecent) are handed on: Agent.Run starts the file sources
// after it, so an incident re-read after a crash finds its kernel
// evidence already observed. It is nil when R does not replay.
func (k *KmsgSource) Replayed() <-chan struct{} {
	if !k.R.Replays() {
		return nil
	}
	k.once.Do(func() { k.replayed = make(chan struct{}) })
	return k.replayed
}

// Run parses each record and stamps it with the reader's wall time.
func (k *KmsgSource) Run(ctx context.Context, out chan<- Item) error {
	recs := make(chan kmsg.Record, 256)
	errc := make(chan error, 1)
	go func() { errc <- k.R.Run(ctx, recs) }()
	parse := kernel.New(parsers.Options{})
	var overruns uint64
	for {
		select {
		case <-ctx.Done():
			k.R.Close()
			return ignoreCancel(<-errc)
		case err := <-errc:
			return ignoreCancel(err)
		case r := <-recs:
			if r.CaughtUp {
				if ch := k.Replayed(); ch != nil {
					close(k.replayed)
				}
				continue
			}
			if n := k.R.Overruns(); n > overruns && k.overruns != nil {
				k.overruns.Add(float64(n - overruns))
				overruns = n
			}
			ev, err := parse(r.Line)
			if err != nil || ev.Signal == parsers.SigNone {
				continue // only signals matter to the correlator
			}
			ev.Time = r.Time
			it := Item{Input: correlate.Input{Type: parsers.TypeKernel, Event: ev, Path: "/dev/kmsg", Line: int64(r.Seq), Text: r.Line}}
			send(ctx, out, it)
		}
	}
}

// JournalSource follows `journalctl -k -f -o json` when /dev/kmsg is not
// readable.
type JournalSource struct {
	F *journal.Follower
}

func (j *JournalSource) Name() string { return "journal" }

func (j *JournalSource) Run(ctx context.Context, out chan<- Item) error {
	ents := make(chan journal.Entry, 256)
	errc := make(chan error, 1)
	go func() { errc <- j.F.Run(ctx, ents) }()
	parse := kernel.New(parsers.Options{})
	for {
		select {
		case <-ctx.Done():
			return ignoreCancel(<-errc)
		case err := <-errc:
			return ignoreCancel(err)
		case e := <-ents:
			line := e.KmsgLine()
			ev, err := parse(line)
			if err != nil || ev.Signal == parsers.SigNone {
				continue
			}
			ev.Time = e.Time
			send(ctx, out, Item{Input: correlate.Input{Type: parsers.TypeKernel, Event: ev, Path: "journal", Text: line}})
		}
	}
}

// OOMSource turns rises of cgroup OOM-kill counters into kernel OOM
// signals, so an OOM kill is seen even when no kernel log is readable.
type OOMSource struct {
	W *oomwatch.Watcher
}

func (o *OOMSource) Name() string { return "cgroup-oom" }

func (o *OOMSource) Run(ctx context.Context, out chan<- Item) error {
	evs := make(chan oomwatch.Event, 16)
	errc := make(chan error, 1)
	go func() { errc <- o.W.Run(ctx, evs) }()
	for {
		select {
		case <-ctx.Done():
			return ignoreCancel(<-errc)
		case err := <-errc:
			return ignoreCancel(err)
		case e := <-evs:
			text := fmt.Sprintf("cgroup %s: oom_kill counter rose by %d to %d (memory.events)", e.Cgroup, e.Delta, e.Total)
			ev := parsers.Event{Time: e.Time, Kind: parsers.KindKernel, Signal: parsers.SigOOMKill, Process: []byte(e.Name), Message: []byte(text)}
			send(ctx, out, Item{Input: correlate.Input{Type: parsers.TypeKernel, Event: ev, Path: e.Cgroup, Text: []byte(text)}})
		}
	}
}

func send(ctx context.Context, out chan<- Item, it Item) bool {
	select {
	case out <- it:
		return true
	case <-ctx.Done():
		return false
	}
}

func ignoreCancel(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
