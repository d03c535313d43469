// Package agent is the live daemon behind `origin-agent run`: it tails the
// web server, php-fpm and kernel logs, feeds the correlator the analyze
// command uses, runs periodic checks, and hands findings to the sinks.
//
// Data flow (DESIGN.md): sources → parsers → one correlator goroutine →
// findings → sinks. A line's position is committed only after the
// correlator accepted its event; a finding is acknowledged only after its
// sink confirmed it.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/checks/host"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/earlywarn"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/positions"
	"github.com/origin-agent/origin-agent/agent/source"
	"github.com/origin-agent/origin-agent/internal/stateown"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/detect"
)

// Watch is one log file to tail, with the parser for its lines.
type Watch struct {
	Path   string
	Type   parsers.Type
	Site   string // server_name / ServerName of an access log written for one site
	Format string // access-log format name, for display
	Parse  parsers.Func
	// Formats, when Parse is nil, are the formats the file may be in
	// (configured ones first, then detect.Builtin(Type)): the parser is
	// chosen from the first lines of each file generation, as analyze
	// chooses (detect.Chooser). Options are the parsers' options.
	Formats []detect.Format
	Options parsers.Options
}

// Emitter receives findings. Emit returns once the finding is durably
// accepted (written, or spooled for a network sink); an error means it was
// not, and the agent logs it and goes on (a finding is never worth a crash).
type Emitter interface {
	Emit(ctx context.Context, f finding.Finding) error
}

// Options configure an Agent. Zero values take defaults.
type Options struct {
	Host     string
	StateDir string // positions.json lives here
	Watches  []Watch
	// Kernel supplies kernel records as parsed inputs (kmsg, journal or a
	// file); nil means no kernel source.
	Kernel InputSource
	// KernelReplayed, when set, is closed once Kernel has handed on the
	// records it reads from before the start (kmsg.Reader.Replayed): the
	// log files are read after it, so that a burst re-read after a crash
	// finds its OOM kill already observed. At most 2 s are waited.
	KernelReplayed <-chan struct{}
	// Extra sources of inputs (cgroup OOM counters, …).
	Extra []InputSource
	// Checks run every CheckInterval and report check and health findings.
	Checks        []checks.Checker
	CheckInterval time.Duration
	// CloudflareRanges, when set, enable the cloudflare_traffic_stopped
	// check on the access logs' client addresses.
	CloudflareRanges []netip.Prefix
	// PoolQuiet is how long a php-fpm pool must go without "server reached
	// pm.max_children" before its early warning is resolved; default
	// earlywarn.DefaultQuiet.
	PoolQuiet time.Duration

	Correlate     correlate.Config
	TickInterval  time.Duration // how often the correlator is ticked; default 250ms
	SyncInterval  time.Duration // positions sync; default 2s
	MetricsListen string        // "" disables /metrics and /healthz
	// UpdateInterval is the least time between two findings of one open
	// incident whose cause did not change; default UpdateEvery (10s).
	UpdateInterval time.Duration
	// QuietFindingLog logs each finding at debug level instead of info:
	// set when the findings' JSON lines reach the same reader as the log
	// (a stdout sink under journald), so that a finding appears there once.
	QuietFindingLog bool

	Emitters []Emitter
	Log      *slog.Logger
	Registry *prometheus.Registry // default: a new one
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Ready is called once the sources are started (sd_notify READY=1).
	Ready func()
}

// Agent is the daemon. Create it with New and call Run; Run may be called
// again after it returned (a reload, see Reconfigure), never concurrently.
// The correlator and the state of checks survive a reload, so an incident
// open across a SIGHUP is still reported once.
type Agent struct {
	opt     Options
	log     *slog.Logger
	metrics *metrics
	store   *positions.Store
	now     func() time.Time
	corr    *correlate.Correlator
	cf      *checks.CloudflareTraffic
	hold    *ackHold         // owned by the loop goroutine
	pools   *earlywarn.Pools // owned by the loop goroutine
	upd     *updateThrottle

	mu      sync.Mutex
	ready   bool
	failing map[string]failingCheck
	updSeq  map[string]int
}

type failingCheck struct {
	since time.Time
	res   checks.Check
}

// positionsFile is the positions store's file in the state directory.
const positionsFile = "positions.json"

// Resuming reports whether an agent with this state directory continues
// where one stopped (its positions file exists), rather than starting for
// the first time. A first start reads every log from its end, so the
// kernel's ring buffer is not replayed either: nothing is re-read that
// its records could explain, and a stale OOM kill from before the agent
// ever ran would only be blamed for the first incident.
func Resuming(stateDir string) bool {
	_, err := os.Stat(filepath.Join(stateDir, positionsFile))
	return err == nil
}

// New validates opt and opens the positions store.
func New(opt Options) (*Agent, error) {
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	opt, err := withDefaults(opt)
	if err != nil {
		return nil, err
	}
	corr := correlate.New(opt.Correlate)
	if end, err := loadLastIncident(opt.StateDir); err != nil {
		opt.Log.Warn("last incident's end unreadable, ignored", "err", err)
	} else {
		corr.Resume(end)
	}
	a := &Agent{
		metrics: newMetrics(opt.Registry),
		store:   openStore(opt),
		corr:    corr,
		cf:      checks.NewCloudflareTraffic(nil),
		pools:   earlywarn.New(opt.Host, opt.PoolQuiet),
		failing: map[string]failingCheck{},
		updSeq:  map[string]int{},
		upd:     newUpdateThrottle(opt.UpdateInterval),
	}
	a.configure(opt)
	return a, nil
}

// withDefaults fills in opt's zero values and makes its state directory.
func withDefaults(opt Options) (Options, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TickInterval <= 0 {
		opt.TickInterval = 250 * time.Millisecond
	}
	if opt.SyncInterval <= 0 {
		opt.SyncInterval = 2 * time.Second
	}
	if opt.CheckInterval <= 0 {
		opt.CheckInterval = 10 * time.Second
	}
	if opt.UpdateInterval <= 0 {
		opt.UpdateInterval = UpdateEvery
	}
	if opt.Correlate.Gap <= 0 {
		pools := opt.Correlate.Pools
		opt.Correlate = correlate.DefaultConfig()
		opt.Correlate.Pools = pools
		// Live lines arrive within a poll interval of being written: a
		// gateway status need not wait long for its proxy error.
		opt.Correlate.Settle = time.Second
	}
	opt.Correlate.Emit = true
	if opt.Host == "" {
		opt.Host, _ = os.Hostname()
	}
	if opt.StateDir == "" {
		return opt, errors.New("agent: no state directory")
	}
	if err := os.MkdirAll(opt.StateDir, 0o750); err != nil {
		return opt, fmt.Errorf("state directory: %w", err)
	}
	// Run as root in the service's state directory: give back what an
	// earlier root run left root's (each writer keeps new files right).
	if err := stateown.Repair(opt.StateDir); err != nil {
		opt.Log.Warn("state directory: cannot give files back to its owner", "dir", opt.StateDir, "err", err)
	}
	return opt, nil
}

// openStore opens the positions store of opt's state directory. A corrupt
// or unreadable file never keeps the agent down.
func openStore(opt Options) *positions.Store {
	posPath := filepath.Join(opt.StateDir, positionsFile)
	store, err := positions.Open(posPath)
	switch {
	case errors.Is(err, positions.ErrCorrupt):
		// Set aside; the sources read the files from their start rather
		// than lose what was written while the agent was down.
		opt.Log.Error("positions file corrupt: reading the logs from their start (findings already sent may repeat, with the same ids)", "err", err)
	case err != nil:
		// Start fresh (from the end of each file) and say so.
		opt.Log.Error("positions file unreadable, starting fresh", "path", posPath, "err", err)
		store = positions.New(posPath)
	}
	return store
}

// configure applies what a reload may change: the options, and what is
// built from them alone.
func (a *Agent) configure(opt Options) {
	a.opt, a.log, a.now = opt, opt.Log, opt.Now
	a.cf.SetRanges(opt.CloudflareRanges)
	a.pools.Configure(opt.Host, opt.PoolQuiet)
	a.upd.every = opt.UpdateInterval
	a.hold = newAckHold(opt.Correlate.Settle+opt.TickInterval, opt.Correlate.Lookback+opt.Correlate.Settle+opt.TickInterval+trailBucketSpan)
}

// Reconfigure replaces the sources, checks and emitters for the next Run
// (after SIGHUP). The positions store, the correlator, the metrics and
// registry, the open incidents' update state, the pools' early warnings
// and the known failing checks are kept; a new state directory opens its
// own store. The correlator keeps its configuration.
func (a *Agent) Reconfigure(opt Options) error {
	opt.Registry = a.opt.Registry
	opt.Correlate = a.opt.Correlate
	opt, err := withDefaults(opt)
	if err != nil {
		return err
	}
	if opt.StateDir != a.opt.StateDir {
		a.store = openStore(opt)
	}
	// The correlator keeps its open incident across the reload, so the
	// lines held for it are handled: commit them, or the new sources would
	// feed them to it a second time.
	a.hold.release()
	a.configure(opt)
	return nil
}

// metricsMaxConns bounds the open connections of the /metrics and /healthz
// server; more wait in the listen backlog.
const metricsMaxConns = 16

// Run tails, correlates and checks until ctx ends, then flushes positions
// and returns nil. It returns an error only when it cannot start (e.g. the
// metrics address is taken).
func (a *Agent) Run(ctx context.Context) error {
	var srv *http.Server
	if a.opt.MetricsListen != "" {
		ln, err := net.Listen("tcp", a.opt.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics listen %s: %w", a.opt.MetricsListen, err)
		}
		// A scraper needs one connection; a client that opens thousands and
		// leaves them idle must not grow the agent (5,000 idle keep-alives
		// took it from 29 to 186 MB): bounded connections, and timeouts
		// for every phase.
		srv = &http.Server{Handler: a.httpHandler(), ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 5 * time.Second,
			MaxHeaderBytes: 16 << 10}
		go srv.Serve(netutil.LimitListener(ln, metricsMaxConns))
		a.log.Info("metrics listening", "addr", ln.Addr().String())
	}

	items := make(chan Item, 4096)
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The positions writer outlives the loop: its last sync must come
	// after the loop's last commit (see loop).
	storeCtx, stopStore := context.WithCancel(context.Background())
	defer stopStore()
	storeDone := make(chan struct{})
	go func() {
		defer close(storeDone)
		a.syncPositions(storeCtx, a.hold)
	}()

	sources := append([]InputSource(nil), a.opt.Extra...)
	if a.opt.Kernel != nil {
		sources = append(sources, a.opt.Kernel)
	}
	for _, s := range sources {
		a.metrics.inputs.WithLabelValues(s.Name()) // at zero until the first input
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(runCtx, items); err != nil {
				a.log.Error("source stopped", "source", s.Name(), "err", err)
			}
		}()
	}
	// A kernel source that reads the ring buffer's last minutes first
	// (kmsg.StartRecent) hands them on before any file line: a burst
	// re-read after a crash then finds its OOM kill already observed,
	// so even its first report names the cause. Bounded: a stuck replay
	// delays the files by 2 s at most.
	if replayed := a.opt.KernelReplayed; replayed != nil {
		select {
		case <-replayed:
		case <-time.After(2 * time.Second):
			a.log.Warn("kernel log: the ring buffer's recent records were not read within 2 s; reading the files anyway")
		case <-runCtx.Done():
		}
	}
	for _, w := range a.opt.Watches {
		src, err := source.NewFile(w.Path, a.store, source.Options{Log: a.log})
		if err != nil {
			a.log.Error("cannot watch file", "path", w.Path, "err", err)
			continue
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := src.Run(runCtx); err != nil {
				a.log.Error("file source stopped", "path", w.Path, "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			a.pumpFile(runCtx, w, src, items)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.metrics.trackLag(runCtx, a.opt.SyncInterval, a.store, a.opt.Watches)
	}()
	a.mu.Lock()
	a.ready = true
	a.mu.Unlock()
	if a.opt.Ready != nil {
		a.opt.Ready()
	}
	a.log.Info("agent running", "files", len(a.opt.Watches), "sources", len(sources), "checks", len(a.opt.Checks))

	a.loop(runCtx, items)

	cancel()
	wg.Wait()
	stopStore()
	<-storeDone // syncPositions syncs once more when its context ends
	if srv != nil {
		shut, c := context.WithTimeout(context.Background(), time.Second)
		srv.Shutdown(shut)
		c()
	}
	a.log.Info("agent stopped")
	return nil
}

// pumpFile parses the lines of one file source and hands them on.
func (a *Agent) pumpFile(ctx context.Context, w Watch, src *source.FileSource, out chan<- Item) {
	lines := a.metrics.lines.WithLabelValues(string(w.Type), w.Path)
	bad := a.metrics.parseErrors.WithLabelValues(string(w.Type), w.Path)
	// Access logs carry no signals: only the other logs trail (see ackHold).
	trail := w.Type != parsers.TypeNginxAccess && w.Type != parsers.TypeApacheAccess
	var ch *detect.Chooser
	if w.Parse == nil && len(w.Formats) > 0 {
		ch = detect.NewChooser(w.Path, w.Formats, w.Options, a.log)
	}
	var pending []source.Line // first lines of a generation whose format is not chosen yet
	prevOK := false
	in := src.Lines()
	for {
		var l source.Line
		if len(pending) > 0 {
			l, pending = pending[0], pending[1:]
		} else {
			var ok bool
			if l, ok = <-in; !ok {
				return
			}
		}
		if ch != nil {
			gen := detect.Generation{Dev: l.File.Dev, Ino: l.File.Ino}
			if p := ch.Known(gen, l.Offset); p != nil {
				w.Parse = p
			} else {
				// The first lines of a file not seen before: look at a
				// few before choosing, then read them with the choice.
				more, sample := a.gather(ctx, in, l)
				pending = append(more, pending...)
				w.Parse = ch.Choose(gen, l.Offset, sample)
			}
		}
		lines.Inc()
		// The commit needs the position only: keeping the text alive in
		// the trail would hold minutes of lines in memory.
		pos := source.Line{Path: l.Path, Offset: l.Offset, Num: l.Num, File: l.File}
		ack := func() { a.hold.ack(pos.File, func() { src.Commit(pos) }, trail) }
		ev, err := w.Parse(l.Text)
		var it Item
		if err != nil {
			// An unparseable line is handled by counting it; its commit
			// still goes through the loop, in order with the others. A
			// continuation of a parsed line's message is not a failure.
			if !prevOK || !errors.Is(err, parsers.ErrContinuation) {
				bad.Inc()
				prevOK = false
			}
			it = Item{Ack: ack, skip: true}
		} else {
			prevOK = true
			if ev.Time.IsZero() {
				ev.Time = a.now()
			}
			it = Item{Input: correlate.Input{Type: detect.LineType(w.Type, &ev), Path: w.Path, Event: ev, Line: l.Num, Offset: l.Start, Text: l.Text, Site: w.Site}, Ack: ack}
		}
		select {
		case out <- it:
		case <-ctx.Done():
			return
		}
	}
}

// gather reads what follows first, the first line of a new file
// generation, until detect.ChooseLines lines of it are there or the source pauses.
// more are the lines read (to be handled next, in order); sample the texts
// of first's generation among them, first included.
func (a *Agent) gather(ctx context.Context, in <-chan source.Line, first source.Line) (more []source.Line, sample [][]byte) {
	sample = [][]byte{first.Text}
	t := time.NewTimer(250 * time.Millisecond)
	defer t.Stop()
	for len(sample) < detect.ChooseLines {
		select {
		case l, ok := <-in:
			if !ok {
				return more, sample
			}
			more = append(more, l)
			if !l.File.SameFile(first.File) {
				return more, sample
			}
			sample = append(sample, l.Text)
		case <-t.C:
			return more, sample
		case <-ctx.Done():
			return more, sample
		}
	}
	return more, sample
}

// loop owns the correlator: it observes inputs, ticks it with the wall
// clock, runs the checks, and emits findings.
func (a *Agent) loop(ctx context.Context, items <-chan Item) {
	corr := a.corr
	tick := time.NewTicker(a.opt.TickInterval)
	defer tick.Stop()
	checkC := make(chan []checks.Check, 1)
	// Joined before the loop returns, so that Run never returns while a
	// check (an audit keeping the firewall in sync) is still at work.
	var checking sync.WaitGroup
	checking.Go(func() { a.runChecks(ctx, checkC) })
	defer checking.Wait()
	// While the sources catch up on a backlog (a restart re-reading what
	// was not checkpointed), the wall clock runs ahead of the lines: ticking
	// the correlator with it would close an incident between two of its
	// own re-read lines. Such ticks use the latest time read instead.
	catchUp := min(a.opt.Correlate.Settle+a.opt.TickInterval, a.opt.Correlate.Gap/2)
	var readUpTo time.Time // latest event time since the last tick
	for {
		select {
		case <-ctx.Done():
			// Incidents still open are reported as they stand: a restart
			// re-reads from the saved positions and reopens them. With
			// none open, what is held is handled: commit it, so the final
			// positions sync records it and a restart does not report
			// the closed incident again.
			if corr.Idle() {
				a.hold.release()
			}
			return
		case it := <-items:
			if it.skip {
				it.Ack()
				continue
			}
			if it.Source != "" {
				a.metrics.inputs.WithLabelValues(it.Source).Inc()
			}
			if t := it.Input.Event.Time; t.After(readUpTo) {
				readUpTo = t
			}
			if ev := &it.Input.Event; ev.Kind == parsers.KindAccess {
				a.cf.Observe(ev.RemoteAddr, ev.Time)
				if ev.IsGateway() {
					a.hold.gateway(a.now())
				}
			}
			corr.Observe(&it.Input)
			if f, ok := a.pools.Observe(&it.Input); ok {
				a.emit(ctx, f) // early warning: before any gateway status
			}
			if it.Ack != nil {
				it.Ack()
			}
		case <-tick.C:
			now := a.now()
			at := now
			if !readUpTo.IsZero() && now.Sub(readUpTo) > catchUp {
				at = readUpTo
			}
			readUpTo = time.Time{}
			a.emitUpdates(ctx, corr.Tick(at))
			for _, f := range a.pools.Tick(at) {
				a.emit(ctx, f)
			}
			a.hold.tick(now, corr.Idle())
		case res := <-checkC:
			if a.cf.Active() {
				res = append(res, a.cf.Result(a.now()))
			}
			a.checkResults(ctx, res)
		}
	}
}

// emitUpdates sends the findings of the correlator's updates, holding
// back `updated` ones that come too soon (see updateThrottle), and those
// held back before whose time has come.
func (a *Agent) emitUpdates(ctx context.Context, ups []correlate.Update) {
	now := a.now()
	for _, u := range ups {
		a.hold.incident(u.Incident.ID, u.State == correlate.Closed)
		if a.upd.admit(u, now) {
			a.emitUpdate(ctx, u)
		}
	}
	for _, u := range a.upd.due(now) {
		a.emitUpdate(ctx, u)
	}
}

func (a *Agent) emitUpdate(ctx context.Context, u correlate.Update) {
	seq := 0
	if u.State == correlate.Updated {
		a.updSeq[u.Incident.ID]++
		seq = a.updSeq[u.Incident.ID]
	}
	if u.State == correlate.Closed {
		delete(a.updSeq, u.Incident.ID)
		a.metrics.incidents.WithLabelValues(string(u.Incident.Cause)).Inc()
		if err := saveLastIncident(a.opt.StateDir, u.Incident.End); err != nil {
			a.log.Warn("cannot save the last incident's end; after a restart its evidence may be cited again", "err", err)
		}
	}
	f := finding.FromIncident(a.opt.Host, u, seq)
	f.Related = a.pools.Related(u.Incident, a.opt.Correlate.Lookback)
	a.emit(ctx, f)
}

func (a *Agent) emit(ctx context.Context, f finding.Finding) {
	if f.Context == nil && (f.State == finding.StateOpened || f.State == finding.StateFailing) {
		f.Context = hostContext(ctx)
	}
	a.metrics.findings.WithLabelValues(string(f.Kind), string(f.State), string(f.Cause)).Inc()
	lv := slog.LevelInfo
	if a.opt.QuietFindingLog {
		lv = slog.LevelDebug
	}
	a.log.Log(ctx, lv, "finding", "id", f.ID, "state", f.State, "severity", f.Severity, "cause", f.Cause, "summary", f.Summary)
	for _, e := range a.opt.Emitters {
		if err := e.Emit(ctx, f); err != nil {
			a.log.Error("emit finding", "id", f.ID, "err", err)
		}
	}
}

// hostContext is the host's memory, swap, load and pressure now, for the
// finding that opens: an OOM kill on a host with no free memory reads
// differently from one in a small cgroup on an idle host. nil when memory
// cannot be read.
func hostContext(ctx context.Context) json.RawMessage {
	snap, _ := host.Sampler{}.Take(ctx) // a partial snapshot is still context
	if snap.MemTotal == 0 {
		return nil
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return nil
	}
	return b
}

func (a *Agent) runChecks(ctx context.Context, out chan<- []checks.Check) {
	if len(a.opt.Checks) == 0 && !a.cf.Active() {
		return
	}
	t := time.NewTicker(a.opt.CheckInterval)
	defer t.Stop()
	for {
		var all []checks.Check
		for _, c := range a.opt.Checks {
			all = append(all, c.Run(ctx)...)
		}
		select {
		case out <- all:
		case <-ctx.Done():
			return
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// checkResults turns check states into findings: one when a check turns
// bad, one when it turns good again (checks.Check.Reported). A result with
// CauseCannotObserve is a health finding: the agent's own blindness,
// severity warning.
func (a *Agent) checkResults(ctx context.Context, res []checks.Check) {
	now := a.now()
	for _, r := range res {
		prev, wasFailing := a.failing[r.ID]
		switch rep := r.Reported(); {
		case rep == checks.ReportBad && !wasFailing:
			a.failing[r.ID] = failingCheck{since: now, res: r}
			a.emit(ctx, checkFinding(a.opt.Host, r, finding.StateFailing, now, now, r.Summary, r.Evidence))
		case rep == checks.ReportGood && wasFailing:
			delete(a.failing, r.ID)
			a.emit(ctx, checkFinding(a.opt.Host, prev.res, finding.StateResolved, prev.since, now, "resolved: "+prev.res.Summary, nil))
		}
	}
}

// checkFinding is the finding of check r: kind health for
// CauseCannotObserve, and never above warning for a health finding or a
// check that only warns.
func checkFinding(host string, r checks.Check, st finding.State, since, now time.Time, summary string, ev []correlate.Evidence) finding.Finding {
	f := finding.FromCheck(host, r.ID, r.Cause, st, since, now, summary, r.Remediation(), ev)
	if r.Cause == checks.CauseCannotObserve {
		f.Kind = finding.KindHealth
	}
	if r.Cause == checks.CauseCannotObserve || r.Status == checks.Warn {
		f.Severity = finding.SeverityWarning
	}
	return f
}

func (a *Agent) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.metrics.handler(a.opt.Registry))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		ok := a.ready
		a.mu.Unlock()
		if !ok {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}
