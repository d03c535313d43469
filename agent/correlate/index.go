package correlate

import "time"

// proxyIndex holds recent proxy errors so a gateway status can find the
// error line of its own request: same client (the key), same request line
// where both logged it, logged close in time. Each error explains at most
// one request.
type proxyIndex struct {
	byClient map[uint64][]*proxyErr
	queue    []*proxyErr // insertion order, for pruning
	head     int
}

type proxyErr struct {
	t       time.Time
	client  uint64
	request uint64
	fam     family
	used    bool
	// server is the line's "server:" (the server block's name), upstream
	// its normalised upstream address: the gateway status matched to it
	// takes them for its scope.
	server, upstream string
}

func newProxyIndex() proxyIndex { return proxyIndex{byClient: map[uint64][]*proxyErr{}} }

func (x *proxyIndex) add(c *Correlator, s signal) {
	if len(x.queue)-x.head >= maxProxyIndex {
		x.drop(x.queue[x.head])
		x.head++
	}
	p := &proxyErr{t: s.t, client: c.hash(s.ev.Client), request: c.hash(s.ev.Request), fam: s.fam,
		server: string(s.ev.Server), upstream: normUpstream(string(s.ev.Upstream))}
	x.byClient[p.client] = append(x.byClient[p.client], p)
	x.queue = append(x.queue, p)
}

// match finds and consumes the proxy error of g, or returns nil.
func (x *proxyIndex) match(c *Correlator, g *gateway) *proxyErr {
	lo := g.t.Add(-c.cfg.MatchWindow - g.reqTime)
	hi := g.t.Add(c.cfg.MatchWindow)
	try := func(key uint64) *proxyErr {
		l := x.byClient[key]
		for i, p := range l {
			if p.used || p.t.Before(lo) || p.t.After(hi) {
				continue
			}
			if p.request != 0 && g.request != 0 && p.request != g.request {
				continue
			}
			p.used = true
			x.byClient[key] = append(l[:i], l[i+1:]...) // consumed: keep lists short in a burst
			return p
		}
		return nil
	}
	for _, k := range [...]uint64{g.remote, g.client} {
		if k != 0 {
			if p := try(k); p != nil {
				return p
			}
		}
	}
	// An error line without a client (nginx logs some without) may still be ours.
	return try(0)
}

func (x *proxyIndex) prune(before time.Time) {
	for x.head < len(x.queue) && x.queue[x.head].t.Before(before) {
		x.drop(x.queue[x.head])
		x.queue[x.head] = nil
		x.head++
	}
	if x.head > 1024 && x.head >= len(x.queue)/2 {
		x.queue = append(x.queue[:0], x.queue[x.head:]...)
		x.head = 0
	}
}

func (x *proxyIndex) drop(p *proxyErr) {
	l := x.byClient[p.client]
	for i, q := range l {
		if q == p {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(x.byClient, p.client)
	} else {
		x.byClient[p.client] = l
	}
}
