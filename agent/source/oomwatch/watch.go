// Package oomwatch counts OOM kills in memory cgroups, so the agent sees
// that the kernel killed a php-fpm or web server process even when it
// cannot read the kernel log. cgroup v2 counts them in memory.events,
// cgroup v1 in memory.oom_control (kernel 4.13+); both say "oom_kill N".
package oomwatch

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Event reports OOM kills seen in one cgroup between two polls.
type Event struct {
	Name   string    `json:"name"`
	Cgroup string    `json:"cgroup"`
	Delta  uint64    `json:"delta"` // kills since the previous poll
	Total  uint64    `json:"total"` // the counter now
	Time   time.Time `json:"time"`  // when the increase was seen
}

// Watcher polls the counters of a fixed set of cgroups.
type Watcher struct {
	targets  []Target
	interval time.Duration
	read     func(string) ([]byte, error)
	now      func() time.Time
	state    []counter
}

type counter struct {
	valid bool
	n     uint64
}

// New returns a Watcher that polls every interval (default 1 s).
func New(targets []Target, interval time.Duration) *Watcher {
	if interval <= 0 {
		interval = time.Second
	}
	return &Watcher{targets: targets, interval: interval, read: os.ReadFile, now: wallNow}
}

// Run polls until ctx is cancelled and sends an Event for every counter
// that went up. Kills counted before Run started are not reported. A
// cgroup that does not exist (service stopped) is retried each poll; when
// it appears, or its counter goes down (the cgroup was recreated), it is
// counted from zero.
//
// Contract: Run never closes out; every send selects on ctx.Done(); it
// returns ctx.Err() when cancelled and no other error.
func (w *Watcher) Run(ctx context.Context, out chan<- Event) error {
	w.state = make([]counter, len(w.targets))
	for i := range w.targets {
		if n, err := w.value(i); err == nil {
			w.state[i] = counter{valid: true, n: n}
		}
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for _, ev := range w.poll() {
			select {
			case out <- ev:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// poll reads every counter once and returns the increases.
func (w *Watcher) poll() []Event {
	var evs []Event
	for i, tg := range w.targets {
		n, err := w.value(i)
		if err != nil {
			w.state[i].valid = false // gone: a new cgroup starts from zero
			continue
		}
		old := w.state[i]
		if !old.valid || n < old.n {
			old.n = 0
		}
		w.state[i] = counter{valid: true, n: n}
		if n > old.n {
			evs = append(evs, Event{Name: tg.Name, Cgroup: tg.Cgroup, Delta: n - old.n, Total: n, Time: w.now()})
		}
	}
	return evs
}

func (w *Watcher) value(i int) (uint64, error) {
	f := w.targets[i].File
	b, err := w.read(f)
	if err != nil {
		return 0, err
	}
	n, ok := ParseOOMKill(b)
	if !ok {
		return 0, fmt.Errorf("%s: no oom_kill counter", f)
	}
	return n, nil
}

// wallNow is time.Now without the monotonic reading, so Events compare
// and print as plain wall times.
func wallNow() time.Time { return time.Now().Round(0) }
