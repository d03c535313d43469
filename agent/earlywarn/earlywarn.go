// Package earlywarn raises the php_fpm_pool_saturated early warning: a
// check finding as soon as php-fpm says a pool reached pm.max_children,
// before any gateway status, and resolved once the pool has been quiet.
package earlywarn

import (
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/parsers"
)

// DefaultQuiet is how long a pool must go without a new "server
// reached pm.max_children" before its early warning is resolved. php-fpm
// repeats the warning every time a request finds the pool full (at most
// once a second per pool), so five quiet minutes mean the pool has had
// room for a while, not merely between two bursts.
const DefaultQuiet = 5 * time.Minute

// poolSlowKeep is how long a pool's "executing too slow" lines are kept
// to name the script in its early warning.
const poolSlowKeep = 5 * time.Minute

// Pools raises the php_fpm_pool_saturated early warning: a check
// finding (severity warning) as soon as php-fpm says a pool reached
// pm.max_children, before any gateway status, naming the pool and the
// script php-fpm's slowlog names for it; resolved once the pool has been
// quiet for Quiet. Incidents that follow carry the warning's finding id in
// `related`. Times are the lines' own (and the tick's), so a replayed
// backlog gives the same ids. Owned by the agent's loop goroutine.
type Pools struct {
	host  string
	quiet time.Duration
	pools map[string]*poolState
	// done are resolved warnings kept a while for linking: an incident
	// may close on a queue that drained minutes ago.
	done []*poolState
}

type poolState struct {
	pool      string
	first     time.Time // first warning: keys the finding id
	last      time.Time // latest warning
	resolved  time.Time
	max       int // pm.max_children as php-fpm stated it
	warnings  int
	findingID string
	slow      map[string]*slowScript // script → seen executing too slow
	evidence  []correlate.Evidence
}

type slowScript struct {
	n    int
	last time.Time
	evd  correlate.Evidence
}

// New returns the warnings of host's pools (see Configure).
func New(host string, quiet time.Duration) *Pools {
	w := &Pools{pools: map[string]*poolState{}}
	w.Configure(host, quiet)
	return w
}

// Configure sets the host named in findings and how long a pool must be
// quiet before its warning is resolved (default DefaultQuiet), keeping
// the pools' state (a reload).
func (w *Pools) Configure(host string, quiet time.Duration) {
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	w.host, w.quiet = host, quiet
}

func (w *Pools) state(pool string) *poolState {
	s := w.pools[pool]
	if s == nil {
		s = &poolState{pool: pool, slow: map[string]*slowScript{}}
		w.pools[pool] = s
	}
	return s
}

// Observe looks at one php-fpm line; it returns the early-warning finding
// when a pool turns saturated.
func (w *Pools) Observe(in *correlate.Input) (finding.Finding, bool) {
	ev := &in.Event
	if in.Type != parsers.TypePHPFPM || (ev.Signal != parsers.SigFPMMaxChildren && ev.Signal != parsers.SigFPMSlowlog) {
		return finding.Finding{}, false
	}
	pool := string(ev.Pool)
	if pool == "" {
		pool = "(unnamed)"
	}
	t := ev.Time
	s := w.state(pool)
	if ev.Signal == parsers.SigFPMSlowlog {
		if len(ev.Process) == 0 {
			return finding.Finding{}, false
		}
		script := string(ev.Process)
		sc := s.slow[script]
		if sc == nil {
			if len(s.slow) >= 32 { // bounded: a pool has few slow scripts that matter
				return finding.Finding{}, false
			}
			sc = &slowScript{}
			s.slow[script] = sc
		}
		sc.n++
		sc.last = t
		sc.evd = correlate.EvidenceOf(in, t)
		return finding.Finding{}, false
	}
	s.warnings++
	s.last = t
	if ev.Value > 0 {
		s.max = ev.Value
	}
	if s.findingID != "" {
		return finding.Finding{}, false // already warned; the count goes on
	}
	s.first = t
	s.warnings = 1
	s.evidence = []correlate.Evidence{correlate.EvidenceOf(in, t)}
	summary, fix := s.describe(t)
	if sc, _ := s.slowest(t); sc != nil {
		s.evidence = append(s.evidence, sc.evd)
	}
	f := finding.FromCheck(w.host, "php_fpm.pool_saturated."+pool, correlate.CausePoolSaturated, finding.StateFailing, t, t, summary, fix, s.evidence)
	s.findingID = f.ID
	return f, true
}

// slowest returns the pool's script most often seen executing too slow in
// the last poolSlowKeep before t.
func (s *poolState) slowest(t time.Time) (*slowScript, string) {
	var best *slowScript
	var name string
	for k, sc := range s.slow {
		if t.Sub(sc.last) > poolSlowKeep {
			delete(s.slow, k)
			continue
		}
		if best == nil || sc.n > best.n || (sc.n == best.n && k < name) {
			best, name = sc, k
		}
	}
	return best, name
}

func (s *poolState) describe(t time.Time) (summary, fix string) {
	limit := "pm.max_children"
	if s.max > 0 {
		limit = fmt.Sprintf("pm.max_children (%d)", s.max)
	}
	summary = fmt.Sprintf("php-fpm pool %s reached %s: every worker is busy and new requests queue; "+
		"if it lasts, nginx answers 504 when fastcgi_read_timeout (60 s by default) runs out", s.pool, limit)
	fix = fmt.Sprintf("Find what holds the workers of pool %s (php-fpm's slowlog with request_slowlog_timeout, a slow database or API), "+
		"and raise pm.max_children in the pool's configuration if memory allows (`origin-agent audit` checks php_fpm.max_children), then reload php-fpm.", s.pool)
	if sc, name := s.slowest(t); sc != nil {
		summary += fmt.Sprintf("; %s is running slow (executing too slow %d time(s))", name, sc.n)
		fix = fmt.Sprintf("Make %s faster (its stack is in pool %s's slowlog) or keep it from taking every worker; ", path.Base(name), s.pool) + fix
	}
	return summary, fix
}

// Tick resolves the warnings of pools quiet for w.quiet at now.
func (w *Pools) Tick(now time.Time) []finding.Finding {
	var out []finding.Finding
	for _, pool := range w.sortedPools() {
		s := w.pools[pool]
		if s.findingID == "" {
			if len(s.slow) > 0 {
				s.slowest(now) // prune
			}
			if len(s.slow) == 0 {
				delete(w.pools, pool)
			}
			continue
		}
		if now.Sub(s.last) < w.quiet {
			continue
		}
		summary, fix := s.describe(s.last)
		summary = fmt.Sprintf("resolved: php-fpm pool %s has not reached pm.max_children for %s (warned %d time(s) from %s to %s); was: %s",
			s.pool, w.quiet, s.warnings, s.first.UTC().Format(time.TimeOnly), s.last.UTC().Format(time.TimeOnly), summary)
		out = append(out, finding.FromCheck(w.host, "php_fpm.pool_saturated."+s.pool, correlate.CausePoolSaturated, finding.StateResolved, s.first, now, summary, fix, nil))
		s.resolved = now
		delete(w.pools, pool)
		w.done = append(w.done, s)
	}
	// Resolved warnings are kept for linking as long as an incident's
	// lookback could reach them.
	w.done = slices.DeleteFunc(w.done, func(s *poolState) bool { return now.Sub(s.last) > w.quiet+10*time.Minute })
	return out
}

func (w *Pools) sortedPools() []string {
	names := make([]string, 0, len(w.pools))
	for p := range w.pools {
		names = append(names, p)
	}
	slices.Sort(names)
	return names
}

// Related returns the ids of the early warnings an incident may follow
// from: pools saturated from before the incident's end until at most
// lookback before its start.
func (w *Pools) Related(inc correlate.Incident, lookback time.Duration) []string {
	var ids []string
	consider := func(s *poolState) {
		if s.findingID == "" || s.first.After(inc.End) || s.last.Before(inc.Start.Add(-lookback)) {
			return
		}
		if !slices.Contains(ids, s.findingID) {
			ids = append(ids, s.findingID)
		}
	}
	for _, p := range w.sortedPools() {
		consider(w.pools[p])
	}
	for _, s := range w.done {
		consider(s)
	}
	return ids
}
