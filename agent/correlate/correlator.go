package correlate

import (
	"bytes"
	"hash/maphash"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// Bounds that keep memory flat whatever the input: a day-long outage or a
// flood of identical lines must not grow the correlator without limit.
const (
	maxRing        = 20000 // recent signals kept for lookback
	maxProxyIndex  = 50000 // recent unmatched proxy errors
	maxPending     = 50000 // gateway statuses waiting to settle
	maxTail        = 2000  // signals after an incident's last gateway status
	maxEvidenceTxt = 2048  // bytes of a cited line

	maxReqTime = 24 * time.Hour // longest request time believed

	// ClockStep is how far one log's time must go back, from one line to
	// the next, to be taken for a step of the clock (NTP correcting a
	// clock that ran ahead, a DST change in zoneless stamps) rather than
	// the ordinary disorder of a log: apache stamps a request when it
	// began and writes it when it ends, and a download can take many
	// minutes. A false step would cut an incident in two; a missed small
	// one only merges two bursts, as before.
	ClockStep = 30 * time.Minute

	// A 499 whose request took Cloudflare's proxy read timeout (100 s) is
	// Cloudflare giving up: its visitors saw 524. nginx stamps the time it
	// noticed the close, a little after the edge's 100 s.
	edgeTimeoutMin = 99 * time.Second
	edgeTimeoutMax = 102 * time.Second
)

// Correlator groups gateway statuses into incidents and names their causes.
//
// Feed it with Observe in time order (lines from several files merged by
// time; small disorder within Settle is tolerated) and call Tick as time
// passes; Flush at the end of input closes what is still open. It is not
// safe for concurrent use: one goroutine owns it.
type Correlator struct {
	cfg  Config
	seed maphash.Seed

	now      time.Time // latest time seen, from events or Tick
	coverage coverage

	ring    []signal      // recent signals, oldest first
	index   proxyIndex    // proxy errors waiting to be matched to a gateway status
	pending []gateway     // gateway statuses waiting to settle, in arrival order
	perSec  secondCounter // requests per second, for incident request counts

	edge edgeRanges // Cloudflare's addresses: a request from one came through Cloudflare

	cur       *incident
	out       []Update
	prunedSec int64
	pathLast  map[string]int64 // Unix time of each log's latest line, to see the clock step back
	// stepPath's latest line is at stepLast (when stepSet), kept out of
	// pathLast while lines of that log follow each other: a map access per
	// line costs a tenth of analyze.
	stepPath string
	stepLast int64
	stepSet  bool
	// prevLast is the last gateway status of the previous incident: the
	// signals up to it were that incident's evidence. floor is prevLast as
	// it was at the last quiet gap: no lookback reaches before it.
	prevLast, floor time.Time
}

// coverage records which kinds of logs were seen at all: absence of a
// signal only means something when its log was read.
type coverage struct {
	nginxError, apacheError, fpm, kernel, access bool
	// kernelFrom is the time of the first kernel line; kernelUntimed
	// is set by lines without a wall time (plain dmesg), whose span is
	// unknown. A kernel log that begins after an incident (a journal
	// that lost older boots, a kern.log rotated away) says nothing about it.
	kernelFrom    time.Time
	kernelUntimed bool
}

// kernelCovers reports whether the kernel log read reaches back to the
// start of inc: only then does the absence of an OOM kill there mean
// there was none.
func (c *Correlator) kernelCovers(inc *incident) bool {
	k := &c.coverage
	return k.kernel && (k.kernelUntimed || !k.kernelFrom.After(inc.start))
}

// New returns a Correlator with cfg.
func New(cfg Config) *Correlator {
	if cfg.Gap <= 0 {
		cfg.Gap = DefaultConfig().Gap
	}
	if cfg.SplitRun <= 0 {
		cfg.SplitRun = DefaultConfig().SplitRun
	}
	return &Correlator{cfg: cfg, seed: maphash.MakeSeed(), index: newProxyIndex(), perSec: newSecondCounter(cfg.Gap + cfg.Settle + 2*time.Minute),
		pathLast: map[string]int64{}, edge: cloudflareRanges()}
}

// signal is a kept non-access line: a php-fpm, kernel or proxy-error event.
type signal struct {
	t   time.Time
	typ parsers.Type
	ev  parsers.Event // cloned: owns its bytes
	fam family        // for proxy errors
	evd Evidence
}

// gateway is one 502/503/504 from an access log.
type gateway struct {
	t          time.Time
	seen       time.Time // the correlator's time when it arrived
	status     int
	client     uint64 // hash of the client as logged, 0 if none
	remote     uint64
	request    uint64 // hash of the request line, 0 if none
	reqTime    time.Duration
	upstreamEq bool // $upstream_status logged and ending in the same status
	upstreamLg bool // $upstream_status logged at all
	apache     bool
	fam        family
	host       string
	path       string
	evd        Evidence
	pseudo     bool // made from a proxy error because no access log was read
	// anchor: made from a line that is itself a failure with no status in
	// the access log (a web server worker crash, out of connections); it
	// spans the incident's window but counts no status.
	anchor   bool
	site     string // server_name from the config or the proxy error's "server:"
	logName  string // the access log's file name, the site when nothing better is known
	upstream string // normalised upstream address
	cfRay    bool   // the request carried Cloudflare's CF-Ray
	fromEdge bool   // the TCP peer was a Cloudflare address
}

// startStamped reports whether g's time is when its request began (an
// apache access line's %t) rather than when it ended: see reach.
func (g gateway) startStamped() bool { return g.apache && !g.pseudo }

// Observe hands one parsed line to the correlator. Lines with a zero time
// are taken to be at the latest time seen.
func (c *Correlator) Observe(in *Input) {
	ev := &in.Event
	t := ev.Time
	if t.IsZero() {
		t = c.now
	} else {
		c.checkStep(in.Path, t)
	}
	if t.After(c.now) {
		c.now = t
	}
	switch in.Type {
	case parsers.TypeNginxError:
		c.coverage.nginxError = true
	case parsers.TypeApacheError:
		c.coverage.apacheError = true
	case parsers.TypePHPFPM:
		c.coverage.fpm = true
	case parsers.TypeKernel:
		c.coverage.kernel = true
		if ev.Time.IsZero() {
			c.coverage.kernelUntimed = true
		} else if c.coverage.kernelFrom.IsZero() || t.Before(c.coverage.kernelFrom) {
			c.coverage.kernelFrom = t
		}
	case parsers.TypeNginxAccess, parsers.TypeApacheAccess:
		c.coverage.access = true
	}

	if ev.Kind == parsers.KindAccess {
		var from, seal time.Time
		if c.cur != nil {
			from, seal = c.cur.start, c.cur.last
		}
		c.perSec.add(t, from, seal)
		if ev.IsGateway() {
			c.addPending(c.gatewayOf(in, t))
		} else if ev.Status == 499 && ev.RequestTime >= int64(edgeTimeoutMin/time.Microsecond) && ev.RequestTime < int64(edgeTimeoutMax/time.Microsecond) {
			g := c.gatewayOf(in, t)
			g.fam = famEdgeTimeout
			c.addPending(g)
		}
		c.advance()
		return
	}
	if ev.Signal == parsers.SigNone {
		c.advance()
		return
	}
	s := signal{t: t, typ: in.Type, ev: ev.Clone(), evd: EvidenceOf(in, t)}
	if ev.Kind == parsers.KindProxy {
		if f, ok := familyOf(ev); ok {
			s.fam = f
			c.index.add(c, s)
			if c.cfg.ProxyErrorsAsRequests {
				c.addPending(c.pseudoGateway(s, in))
			}
		}
	}
	if f, ok := anchorOf(ev); ok && !(c.cfg.ProxyErrorsAsRequests && f == famConns) {
		g := c.pseudoGateway(s, in)
		g.status, g.fam, g.anchor = 0, f, true
		c.addPending(g)
	}
	c.ring = append(c.ring, s)
	if len(c.ring) > maxRing {
		c.ring = append(c.ring[:0], c.ring[len(c.ring)-maxRing/2:]...)
	}
	if c.cur != nil {
		c.cur.addTail(s)
		// A signal can make the cause clearer (the proxy error of a status
		// already classified, php-fpm's or the kernel's word): say so now,
		// not only when the next status arrives.
		c.maybeUpdate()
	}
	c.advance()
}

// Tick advances time to now (if later than what was seen) and returns the
// updates that became due: settled gateway statuses, incidents opened,
// changed or closed by a quiet gap.
func (c *Correlator) Tick(now time.Time) []Update {
	if now.After(c.now) {
		c.now = now
	}
	c.advance()
	return c.take()
}

// Flush ends the input: every pending gateway status is classified and every
// open incident closed.
func (c *Correlator) Flush() []Update {
	c.settle(true)
	if c.cur != nil {
		c.close()
	}
	return c.take()
}

// Idle reports that no incident is open and no gateway status is waiting
// to settle: every input observed so far is fully accounted for.
func (c *Correlator) Idle() bool { return c.cur == nil && len(c.pending) == 0 }

// Resume tells a new correlator when the last incident before a restart
// ended (its Incident.End). Signals up to then explained that incident,
// so after a quiet gap the next one does not reach back past it: what a
// restarted agent reads again (the kernel ring buffer, signal logs
// re-read from their positions) is not evidence twice. A later end already
// known is kept.
func (c *Correlator) Resume(lastEnd time.Time) {
	if lastEnd.After(c.prevLast) {
		c.prevLast = lastEnd
	}
}

func (c *Correlator) take() []Update {
	out := c.out
	c.out = nil
	return out
}

// checkStep sees whether the log at path stepped back to t.
func (c *Correlator) checkStep(path string, t time.Time) {
	if path != c.stepPath {
		if c.stepSet {
			c.pathLast[c.stepPath] = c.stepLast
		}
		c.stepPath = path
		c.stepLast, c.stepSet = c.pathLast[path]
	}
	sec := t.Unix()
	if c.stepSet && c.stepLast-sec > int64(ClockStep/time.Second) {
		c.stepBack(t)
	}
	c.stepLast, c.stepSet = sec, true
}

// stepBack starts a new timeline at t when a log's clock stepped back:
// what came before belongs to the old one. Without it, the statuses after
// the step would join the incident open before it ("04:01 → 05:01") and
// nothing would close it until log time passed the old one again. The
// open incident is closed, pending statuses settled, and what is kept for
// lookback, matching and request counts is dropped; time is t from now on.
func (c *Correlator) stepBack(t time.Time) {
	c.settle(true)
	if c.cur != nil {
		c.close()
	}
	c.now = t
	c.ring = c.ring[:0]
	c.index = newProxyIndex()
	c.perSec = newSecondCounter(c.cfg.Gap + c.cfg.Settle + 2*time.Minute)
	c.prevLast, c.floor = time.Time{}, time.Time{}
	c.prunedSec = 0
	clear(c.pathLast) // every log steps back with the clock
	c.stepSet = false
	if c.coverage.kernelFrom.After(t) {
		c.coverage.kernelFrom = t // read on across the step
	}
}

func (c *Correlator) advance() {
	if len(c.pending) > 0 {
		c.settle(false)
	}
	if c.cur != nil && c.now.Sub(c.cur.last) > c.cfg.Gap {
		c.close()
	}
	// Pruning works in whole seconds: once per second of log time is enough.
	if sec := c.now.Unix(); sec != c.prunedSec {
		c.prunedSec = sec
		c.prune()
	}
}

func (c *Correlator) addPending(g gateway) {
	// Settle counts from arrival, not from the logged time: nginx and
	// apache log whole seconds, so a status written at 10:00:00.9 is
	// already "a second old" at 10:00:01.0 while its proxy error line,
	// from another file, may still be on its way. Offline, input comes in
	// time order and arrival is the logged time.
	g.seen = c.now
	if len(c.pending) >= maxPending {
		// Flooded: classify the oldest now rather than drop it.
		c.classify(c.pending[0])
		c.pending = c.pending[1:]
	}
	c.pending = append(c.pending, g)
}

// settle classifies gateway statuses whose settle time has passed (all of
// them when final).
func (c *Correlator) settle(final bool) {
	n := 0
	for _, g := range c.pending {
		if !final && c.now.Sub(g.seen) < c.cfg.Settle {
			break
		}
		c.classify(g)
		n++
	}
	if n > 0 {
		c.pending = append(c.pending[:0], c.pending[n:]...)
	}
}

func (c *Correlator) classify(g gateway) {
	if !g.pseudo && g.fam != famEdgeTimeout {
		if p := c.index.match(c, &g); p != nil {
			g.fam = p.fam
			if g.site == "" {
				g.site = p.server
			}
			if g.upstream == "" {
				g.upstream = p.upstream
			}
		}
	}
	c.assign(g)
}

// assign puts a classified gateway status into the open incident, a new
// one after a quiet gap, or a new one when its failure family changed for
// SplitRun statuses in a row (one cause followed by another without a gap).
func (c *Correlator) assign(g gateway) {
	if c.cur != nil && g.t.Sub(c.cur.last) > c.cfg.Gap {
		c.close()
	}
	if c.cur == nil {
		c.open(g)
		return
	}
	if inc := c.cur; inc.anchors == inc.gateways && !g.anchor && g.fam.group() != inc.dominant() {
		// Requests failing otherwise after a crashed web server worker are
		// news, not part of the crash (which failed no logged request).
		c.close()
		c.open(g)
		return
	}
	inc := c.cur
	if g.t.After(inc.last) {
		inc.last = g.t
	}
	grp := g.fam.group()
	if grp == inc.dominant() {
		inc.commitRun()
		inc.commit(g)
		c.maybeUpdate()
		return
	}
	if len(inc.run) > 0 && inc.run[0].fam.group() != grp {
		inc.commitRun()
	}
	inc.run = append(inc.run, g)
	if len(inc.run) >= c.cfg.SplitRun && inc.gateways < c.cfg.SplitRun && inc.anchors < inc.gateways {
		// A handful of statuses before a change of family are its prelude
		// (the requests in flight when php-fpm stopped are reset, then
		// connections are refused): one incident, not two. A crashed web
		// server worker alone is no prelude: what fails after it is news.
		inc.commitRun()
	} else if len(inc.run) >= c.cfg.SplitRun {
		run := inc.run
		inc.run = nil
		c.close()
		c.open(run[0])
		for _, r := range run[1:] {
			c.cur.commit(r)
			if r.t.After(c.cur.last) {
				c.cur.last = r.t
			}
		}
	}
	c.maybeUpdate()
}

func (c *Correlator) open(g gateway) {
	inc := newIncident(g)
	from := g.t.Add(-c.cfg.Lookback)
	// After a quiet gap, what happened up to the previous incident's last
	// gateway status explained that incident: a worker OOM-killed or
	// crashed a minute ago, its pool long recovered, is not why php-fpm
	// refuses connections now. A split without a gap keeps what came
	// since that gap (one chain of failures: the OOM kill behind the resets
	// is behind the refusals that follow), but never reaches past it.
	if g.t.Sub(c.prevLast) > c.cfg.Gap {
		c.floor = c.prevLast
	}
	if !c.floor.IsZero() && !from.After(c.floor) {
		from = c.floor.Add(time.Nanosecond)
	}
	until := g.t.Add(c.reach(g.startStamped()))
	for _, s := range c.ring {
		if !s.t.Before(from) && !s.t.After(until) {
			inc.addSignal(s)
		}
	}
	inc.reqFrom = g.t
	c.cur = inc
	if c.cfg.Emit {
		d := c.diagnose(inc)
		inc.lastCause = d.Cause
		c.out = append(c.out, Update{State: Opened, Incident: d})
	}
}

func (c *Correlator) maybeUpdate() {
	if !c.cfg.Emit || c.cur == nil {
		return
	}
	inc := c.cur
	d := c.diagnose(inc)
	if d.Cause != inc.lastCause || inc.gateways >= 2*inc.reported {
		inc.lastCause = d.Cause
		inc.reported = inc.gateways
		c.out = append(c.out, Update{State: Updated, Incident: d})
	}
}

func (c *Correlator) close() {
	inc := c.cur
	c.cur = nil
	c.prevLast = inc.last
	inc.commitRun()
	until := inc.last.Add(c.reach(inc.startStamped()))
	inc.commitTail(until)
	d := c.diagnose(inc)
	d.Closed = true
	c.out = append(c.out, Update{State: Closed, Incident: d})
}

// reach is how long after a gateway status's time stamp its proxy error
// (or php-fpm's word about it) may still be logged. nginx stamps an access
// line when the request ends, with its error: the lookahead covers the
// spread. Apache stamps it with the time the request began (%t) and logs
// the proxy error when the request gives up, ProxyTimeout later (Debian:
// Timeout, 300 s; AH01075 of an exhausted pool 20 s after the status on
// the stock host): every signal up to the quiet gap that ends the incident
// may be about its requests. open, close and incident.addTail use it.
func (c *Correlator) reach(startStamped bool) time.Duration {
	if startStamped {
		return max(c.cfg.Lookahead, c.cfg.Gap)
	}
	return c.cfg.Lookahead
}

// prune forgets what no future incident can use.
func (c *Correlator) prune() {
	keep := c.now.Add(-c.cfg.Lookback - c.cfg.Settle)
	i := 0
	for i < len(c.ring) && c.ring[i].t.Before(keep) {
		i++
	}
	// Compact only when a good share is stale, so pruning stays O(1) per line.
	if i > 0 && (i >= len(c.ring)/2 || i >= 1024) {
		c.ring = append(c.ring[:0], c.ring[i:]...)
	}
	c.index.prune(c.now.Add(-c.cfg.MatchWindow - c.cfg.Settle - 5*time.Minute))
	floor := c.now.Add(-c.cfg.Gap - c.cfg.Settle - time.Minute)
	if c.cur != nil && c.cur.start.Before(floor) {
		floor = c.cur.start
	}
	c.perSec.prune(floor)
}

func (c *Correlator) hash(b []byte) uint64 {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		return 0
	}
	return maphash.Bytes(c.seed, b)
}

func (c *Correlator) gatewayOf(in *Input, t time.Time) gateway {
	ev := &in.Event
	g := gateway{
		t:       t,
		status:  ev.Status,
		client:  c.hash(ev.Client),
		remote:  c.hash(ev.RemoteAddr),
		request: c.hash(ev.Request),
		apache:  in.Type == parsers.TypeApacheAccess,
		host:    string(ev.Host),
		path:    pathOf(ev.URI, ev.Request),
		evd:     EvidenceOf(in, t),
		site:    in.Site,
		logName: logName(in.Path),
		cfRay:   len(ev.CFRay) > 0 && !bytes.Equal(ev.CFRay, []byte("-")),
	}
	if ev.Status == 499 {
		// only the edge timeout rule asks; a gateway line costs no parse
		if a, err := netip.ParseAddr(string(ev.RemoteAddr)); err == nil {
			g.fromEdge = c.edge.contains(a)
		}
	}
	if len(ev.Upstream) > 0 && !bytes.Equal(ev.Upstream, []byte("-")) {
		g.upstream = normUpstream(string(ev.Upstream))
	}
	if ev.RequestTime > 0 {
		// A day bounds the match window: longer is a garbled field, and
		// µs→ns of a garbled field can wrap negative.
		g.reqTime = time.Duration(min(ev.RequestTime, int64(maxReqTime/time.Microsecond))) * time.Microsecond
	}
	if us := ev.UpstreamStatus; len(us) > 0 && !bytes.Equal(us, []byte("-")) {
		g.upstreamLg = true
		g.upstreamEq = lastStatusIs(us, ev.Status)
	}
	return g
}

func (c *Correlator) pseudoGateway(s signal, in *Input) gateway {
	apache := in.Type == parsers.TypeApacheError
	return gateway{
		t:      s.t,
		status: s.fam.status(apache),
		apache: apache,
		fam:    s.fam,
		host:   string(s.ev.Host),
		path:   pathOf(s.ev.URI, s.ev.Request),
		evd:    s.evd,
		pseudo: true,
		site:   string(s.ev.Server),
		upstream: func() string {
			if len(s.ev.Upstream) == 0 {
				return ""
			}
			return normUpstream(string(s.ev.Upstream))
		}(),
	}
}

// EvidenceOf cites in's line at time t: its text (at most maxEvidenceTxt
// bytes, valid UTF-8), its line number, or its byte offset where the
// number is unknown (DESIGN: evidence[].line).
func EvidenceOf(in *Input, t time.Time) Evidence {
	txt := in.Text
	if len(txt) > maxEvidenceTxt {
		txt = txt[:maxEvidenceTxt]
	}
	off := in.Offset
	if in.Line > 0 {
		off = 0
	}
	return Evidence{Time: t, Path: in.Path, Line: in.Line, Offset: off, Text: string(bytes.ToValidUTF8(txt, []byte("\uFFFD")))}
}

// lastStatusIs reports whether the last entry of an $upstream_status list
// ("502, 504 : 502") equals status.
func lastStatusIs(us []byte, status int) bool {
	i := len(us)
	for i > 0 && us[i-1] == ' ' {
		i--
	}
	j := i
	for j > 0 && us[j-1] >= '0' && us[j-1] <= '9' {
		j--
	}
	n, ok := parsers.Atoi(us[j:i])
	return ok && n == status
}

// logName is a log's file name without logrotate's suffixes
// (shop.access.log.2.gz → shop.access.log).
func logName(p string) string {
	n := strings.TrimSuffix(filepath.Base(p), ".gz")
	if i := strings.LastIndexByte(n, '.'); i > 0 {
		if _, ok := parsers.Atoi([]byte(n[i+1:])); ok {
			n = n[:i]
		}
	}
	return n
}

func pathOf(uri, request []byte) string {
	p := uri
	if len(p) == 0 && len(request) > 0 {
		if i := bytes.IndexByte(request, ' '); i >= 0 {
			p = request[i+1:]
			if j := bytes.LastIndexByte(p, ' '); j >= 0 {
				p = p[:j]
			}
		}
	}
	if i := bytes.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if len(p) > 200 {
		p = p[:200]
	}
	return string(p)
}
