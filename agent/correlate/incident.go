package correlate

import (
	"sort"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

const (
	maxEvidencePerSignal = 3
	maxGatewayEvidence   = 3
	maxTracked           = 512 // pids, hosts, paths kept per incident
)

// incident accumulates what is known about one open burst. Everything in
// it is bounded: counts grow, lists stop at fixed sizes.
type incident struct {
	start, last time.Time
	reqFrom     time.Time
	statuses    map[int]int
	gateways    int
	fams        [famCount]int // committed gateway statuses by family
	upEq, upLg  int           // $upstream_status equal to the status / logged at all, of statuses without a proxy error
	upEqOwn     int           // of upEq: 502/504, which nginx also writes for its own errors
	anchors     int           // members made from failure lines, not statuses
	cfRays      int           // affected requests that carried CF-Ray
	fromEdge    int           // affected requests whose TCP peer was a Cloudflare address
	apache      int           // gateway statuses from apache access logs
	apacheReq   int           // of apache: statuses from access lines, stamped when the request began
	pseudo      int           // gateway statuses inferred from proxy errors
	gwEvidence  []Evidence
	firstText   string
	hosts       map[string]int
	paths       map[string]int
	sites       map[string]int // server_name (or access log name) of the affected requests
	upstreams   map[string]int // upstream of the affected requests

	run  []gateway // statuses of another family waiting to prove a change of cause
	tail []signal  // signals after the last committed status

	sig agg

	lastCause Cause
	reported  int
}

// agg is what the signals around an incident say, reduced to what the
// cause rules need.
type agg struct {
	n        [64]int
	evidence [64][]Evidence
	proxyFam [famCount]int

	exits      []exit // php-fpm children that exited
	timeouts   map[int]bool
	ooms       []oom
	segfaults  map[int]string
	maxChild   int // pm.max_children value from the warning
	pool       string
	timeoutSec int // execution timed out (N sec)
	upstreams  map[string]int
	slow       map[string]int // script → php-fpm "executing too slow" warnings
	fpmStopped bool

	crashes      []srvCrash     // web server workers that died on a signal
	clientClosed int            // nginx: client closed while the upstream worked
	connLimit    int            // worker_connections as nginx named it
	pools        map[string]int // php-fpm pools that reported trouble
}

// srvCrash is a web server worker (nginx) or child (apache) that died, or
// a kernel segfault of one.
type srvCrash struct {
	server string // "nginx", "apache", or the kernel's process name
	pid    int
	sig    int
}

type exit struct {
	pid, sig, code int
	t              time.Time
	evd            Evidence
}

type oom struct {
	pid     int
	process string
	t       time.Time
}

func newIncident(g gateway) *incident {
	inc := &incident{
		start: g.t, last: g.t,
		statuses:  map[int]int{},
		hosts:     map[string]int{},
		paths:     map[string]int{},
		sites:     map[string]int{},
		upstreams: map[string]int{},
	}
	inc.sig.pools = map[string]int{}
	inc.sig.timeouts = map[int]bool{}
	inc.sig.segfaults = map[int]string{}
	inc.sig.upstreams = map[string]int{}
	inc.sig.slow = map[string]int{}
	inc.firstText = g.evd.Text
	inc.commit(g)
	return inc
}

// dominant is the family group with the most committed statuses.
func (inc *incident) dominant() family {
	var best family
	bestN := -1
	var byGroup [famCount]int
	for f, n := range inc.fams {
		byGroup[family(f).group()] += n
	}
	for f, n := range byGroup {
		if n > bestN {
			best, bestN = family(f), n
		}
	}
	return best
}

func (inc *incident) commit(g gateway) {
	if g.t.Before(inc.start) {
		inc.start = g.t
	}
	if g.t.After(inc.last) {
		inc.last = g.t
	}
	if g.status != 0 {
		inc.statuses[g.status]++
	}
	inc.gateways++
	inc.fams[g.fam]++
	if g.anchor {
		inc.anchors++
	}
	// $upstream_status equal to the status says the upstream answered it
	// only where no proxy error says nginx made it up (it logs 502 for its
	// own refused connects, bad headers and premature closes).
	if g.upstreamLg && g.fam == famNone {
		inc.upLg++
		if g.upstreamEq {
			inc.upEq++
			if g.status != 503 {
				inc.upEqOwn++
			}
		}
	}
	if g.cfRay {
		inc.cfRays++
	}
	if g.fromEdge {
		inc.fromEdge++
	}
	if !g.anchor {
		site := g.site
		if site == "" && !g.pseudo {
			site = g.logName
		}
		bump(inc.sites, site)
		bump(inc.upstreams, g.upstream)
	}
	if g.apache {
		inc.apache++
	}
	if g.startStamped() {
		inc.apacheReq++
	}
	if g.pseudo {
		inc.pseudo++
	}
	if len(inc.gwEvidence) < maxGatewayEvidence && !g.pseudo {
		inc.gwEvidence = append(inc.gwEvidence, g.evd)
	}
	bump(inc.hosts, g.host)
	bump(inc.paths, g.path)
	// Signals logged before this status are now inside the incident.
	n := 0
	for _, s := range inc.tail {
		if s.t.After(g.t) {
			inc.tail[n] = s
			n++
			continue
		}
		inc.addSignal(s)
	}
	inc.tail = inc.tail[:n]
}

// startStamped reports whether the incident has statuses from access lines
// stamped when their request began (apache's %t): see Correlator.reach.
func (inc *incident) startStamped() bool { return inc.apacheReq > 0 }

func (inc *incident) commitRun() {
	for _, g := range inc.run {
		inc.commit(g)
	}
	inc.run = nil
}

func (inc *incident) addTail(s signal) {
	// A start-stamped incident (apache) reaches to the gap that closes it
	// (Correlator.reach): close would take every tail signal, so it is
	// taken now, and the live findings name the cause as soon as the proxy
	// error is read.
	if !s.t.After(inc.last) || inc.startStamped() {
		inc.addSignal(s)
		return
	}
	if len(inc.tail) < maxTail {
		inc.tail = append(inc.tail, s)
	}
}

// commitTail takes the signals logged after the last status up to until.
func (inc *incident) commitTail(until time.Time) {
	for _, s := range inc.tail {
		if !s.t.After(until) {
			inc.addSignal(s)
		}
	}
	inc.tail = nil
}

func (inc *incident) addSignal(s signal) {
	a := &inc.sig
	ev := &s.ev
	k := int(ev.Signal)
	if k >= len(a.n) {
		return
	}
	a.n[k]++
	if len(a.evidence[k]) < maxEvidencePerSignal {
		a.evidence[k] = append(a.evidence[k], s.evd)
	}
	if ev.Kind == parsers.KindProxy {
		a.proxyFam[s.fam]++
		if len(ev.Upstream) > 0 {
			bump(a.upstreams, normUpstream(string(ev.Upstream)))
		}
	}
	if len(ev.Pool) > 0 {
		switch ev.Signal {
		case parsers.SigFPMMaxChildren, parsers.SigFPMSeemsBusy, parsers.SigFPMExecTimeout, parsers.SigFPMSlowlog:
			bump(a.pools, string(ev.Pool))
		case parsers.SigFPMChildExited:
			if ev.ExitSig != 0 && ev.ExitSig != 3 { // SIGQUIT: pm trimming idle children
				bump(a.pools, string(ev.Pool))
			}
		}
	}
	switch ev.Signal {
	case parsers.SigFPMChildExited:
		if len(a.exits) < maxTracked {
			a.exits = append(a.exits, exit{pid: ev.ChildPID, sig: ev.ExitSig, code: ev.ExitCode, t: s.t, evd: s.evd})
		}
	case parsers.SigFPMExecTimeout:
		if len(a.timeouts) < maxTracked {
			a.timeouts[ev.ChildPID] = true
		}
		if ev.Value > a.timeoutSec {
			a.timeoutSec = ev.Value
		}
	case parsers.SigFPMMaxChildren:
		if ev.Value > 0 {
			a.maxChild = ev.Value
		}
		if len(ev.Pool) > 0 {
			a.pool = string(ev.Pool)
		}
	case parsers.SigOOMKill:
		if len(a.ooms) < maxTracked {
			a.ooms = append(a.ooms, oom{pid: ev.ChildPID, process: string(ev.Process), t: s.t})
		}
	case parsers.SigSegfault:
		if len(a.segfaults) < maxTracked {
			a.segfaults[ev.ChildPID] = string(ev.Process)
		}
	case parsers.SigFPMSlowlog:
		// The main log's warning names the script; a slowlog file's entry
		// header does not (its script_filename line follows).
		bump(a.slow, string(ev.Process))
	case parsers.SigFPMStopping:
		a.fpmStopped = true
	case parsers.SigServerChildSignal:
		if _, crash := anchorOf(ev); crash && len(a.crashes) < maxTracked {
			srv := "nginx"
			if s.typ == parsers.TypeApacheError {
				srv = "apache"
			}
			a.crashes = append(a.crashes, srvCrash{server: srv, pid: ev.ChildPID, sig: ev.ExitSig})
		}
	case parsers.SigClientClosed:
		a.clientClosed++
	case parsers.SigWorkerConnections:
		if ev.Value > 0 {
			a.connLimit = ev.Value
		}
	}
	if ev.Signal == parsers.SigSegfault && webServerProcess(string(ev.Process)) && len(a.crashes) < maxTracked {
		a.crashes = append(a.crashes, srvCrash{server: string(ev.Process), pid: ev.ChildPID, sig: 11})
	}
}

func bump(m map[string]int, k string) {
	if k == "" {
		return
	}
	if _, ok := m[k]; ok || len(m) < maxTracked {
		m[k]++
	}
}

func topCounts(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Value: k, N: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
