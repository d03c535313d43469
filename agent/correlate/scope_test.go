package correlate

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// TestScopeTwoSitesTwoPools: two server blocks with their own access logs
// and two pools; only the shop's pool is exhausted. The incident names that
// site, that pool and its socket, not the blog's.
func TestScopeTwoSitesTwoPools(t *testing.T) {
	const shopSock, blogSock = "fastcgi://unix:/run/php/shop.sock:", "fastcgi://unix:/run/php/blog.sock:"
	var in []Input
	line := int64(0)
	add := func(i Input) {
		line++
		i.Line = line
		in = append(in, i)
	}
	access := func(at time.Duration, site, log string, status int, client, req string) {
		add(Input{Type: parsers.TypeNginxAccess, Path: "/var/log/nginx/" + log, Site: site, Text: []byte(req),
			Event: parsers.Event{Time: t0.Add(at), Kind: parsers.KindAccess, Status: status, Client: []byte(client), RemoteAddr: []byte(client),
				Request: []byte(req), RequestTime: -1, UpstreamTime: -1}})
	}
	fpm := func(at time.Duration, pool string, sig parsers.Signal, text string) {
		add(Input{Type: parsers.TypePHPFPM, Path: "/var/log/php8.2-fpm.log", Text: []byte(text),
			Event: parsers.Event{Time: t0.Add(at), Kind: parsers.KindFPM, Signal: sig, Pool: []byte(pool), Value: 5}})
	}
	for s := time.Duration(0); s < 30*time.Second; s += time.Second {
		access(s, "blog.example.com", "blog.access.log", 200, "198.51.100.9", "GET /2026/11/post HTTP/1.1")
		access(s, "shop.example.com", "shop.access.log", 200, "198.51.100.8", "GET / HTTP/1.1")
	}
	fpm(10*time.Second, "shop", parsers.SigFPMMaxChildren, "WARNING: [pool shop] server reached pm.max_children setting (5), consider raising it")
	for i := 0; i < 8; i++ {
		at := 12*time.Second + time.Duration(i)*time.Second
		client := "203.0.113." + itoa(i+1)
		req := "GET /checkout.php HTTP/1.1"
		if i%4 == 3 {
			req = "GET /cart.php HTTP/1.1"
		}
		add(Input{Type: parsers.TypeNginxError, Path: "/var/log/nginx/error.log", Text: []byte("upstream timed out"),
			Event: parsers.Event{Time: t0.Add(at), Kind: parsers.KindProxy, Signal: parsers.SigUpstreamTimedOut,
				Client: []byte(client), Request: []byte(req), Upstream: []byte(shopSock), Server: []byte("shop.example.com")}})
		access(at, "shop.example.com", "shop.access.log", 504, client, req)
	}
	// The blog's pool is fine; its upstream appears in an unrelated notice.
	add(Input{Type: parsers.TypeNginxError, Path: "/var/log/nginx/error.log", Text: []byte("buffered"),
		Event: parsers.Event{Time: t0.Add(15 * time.Second), Kind: parsers.KindProxy, Upstream: []byte(blogSock), Server: []byte("blog.example.com")}})
	sortInputs(in)
	inc := one(t, run(t, DefaultConfig(), in))
	if inc.Cause != CausePoolExhausted || inc.Statuses["504"] != 8 {
		t.Fatalf("cause %s statuses %v", inc.Cause, inc.Statuses)
	}
	sc := inc.Scope
	if len(sc.Sites) != 1 || sc.Sites[0] != "shop.example.com" {
		t.Errorf("sites %v, want [shop.example.com]", sc.Sites)
	}
	if len(sc.Pools) != 1 || sc.Pools[0] != "shop" {
		t.Errorf("pools %v, want [shop]", sc.Pools)
	}
	if len(sc.Upstreams) != 1 || sc.Upstreams[0] != "unix:/run/php/shop.sock" {
		t.Errorf("upstreams %v, want [unix:/run/php/shop.sock]", sc.Upstreams)
	}
	if len(sc.Paths) != 2 || sc.Paths[0] != (PathCount{"/checkout.php", 6}) || sc.Paths[1] != (PathCount{"/cart.php", 2}) {
		t.Errorf("paths %v", sc.Paths)
	}
	if !equalInts(inc.EdgeStatus, []int{504}) {
		t.Errorf("edge_status %v, want [504]", inc.EdgeStatus)
	}
}

// TestScopePoolFromListen: without a php-fpm log line naming the pool, the
// upstream socket matched to a pool's listen (from the configs) names it;
// without a site from the config the access log's name (rotation suffix
// dropped) stands for the site.
func TestScopePoolFromListen(t *testing.T) {
	var s scenario
	s.healthy(0, 20*time.Second, time.Second)
	s.failing(5*time.Second, 6, time.Second, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
	for i := range s.in {
		s.in[i].Path = "/var/log/nginx/shop.access.log.1"
		if s.in[i].Type == parsers.TypeNginxError {
			s.in[i].Path = "/var/log/nginx/error.log"
		}
	}
	sortInputs(s.in)
	cfg := DefaultConfig()
	cfg.Pools = map[string]string{}
	for _, k := range PoolListenKeys("/run/php/php8.2-fpm.sock") {
		cfg.Pools[k] = "www"
	}
	inc := one(t, run(t, cfg, s.in))
	if inc.Cause != CauseUpstreamDown {
		t.Fatalf("cause %s", inc.Cause)
	}
	if len(inc.Scope.Pools) != 1 || inc.Scope.Pools[0] != "www" {
		t.Errorf("pools %v, want [www]", inc.Scope.Pools)
	}
	if len(inc.Scope.Sites) != 1 || inc.Scope.Sites[0] != "shop.access.log" {
		t.Errorf("sites %v, want [shop.access.log]", inc.Scope.Sites)
	}
}

// TestUpstreamStatusNotProof: nginx writes $upstream_status 502 for its own
// 502s, so without the error log a 502 with us=502 is not the application's;
// a 503 with us=503 is.
func TestUpstreamStatusNotProof(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   Cause
	}{{502, CauseUnknown}, {504, CauseUnknown}, {503, CauseApplicationError}} {
		var s scenario
		s.healthy(0, 20*time.Second, time.Second)
		for i := 0; i < 6; i++ {
			s.add(parsers.TypeNginxAccess, parsers.Event{Time: t0.Add(time.Duration(5+i) * time.Second), Kind: parsers.KindAccess, Status: tc.status,
				Client: []byte("203.0.113.1"), Request: []byte("GET /x HTTP/1.1"), UpstreamStatus: []byte(itoa(tc.status)), RequestTime: -1, UpstreamTime: -1}, "x")
		}
		sortInputs(s.in)
		inc := one(t, run(t, DefaultConfig(), s.in))
		if inc.Cause != tc.want {
			t.Errorf("%d with us=%d and no error log: %s, want %s (%s)", tc.status, tc.status, inc.Cause, tc.want, inc.Summary)
		}
	}
}

func sortInputs(in []Input) {
	for i := 1; i < len(in); i++ {
		for j := i; j > 0 && in[j].Event.Time.Before(in[j-1].Event.Time); j-- {
			in[j], in[j-1] = in[j-1], in[j]
		}
	}
}

// TestEdgeTimeoutOnly499sAt100s: only a 499 whose request took Cloudflare's
// 100 s is its timeout; a visitor who gave up after 30 s is not an incident.
// A request from a Cloudflare address counts as coming through the edge.
func TestEdgeTimeoutOnly499sAt100s(t *testing.T) {
	var s scenario
	s.healthy(0, 200*time.Second, 2*time.Second)
	s.add(parsers.TypeNginxAccess, parsers.Event{Time: t0.Add(50 * time.Second), Kind: parsers.KindAccess, Status: 499,
		RemoteAddr: []byte("162.158.1.7"), Request: []byte("GET /search.php HTTP/1.1"), RequestTime: 30_000_000, UpstreamTime: -1}, "499 at 30 s")
	s.add(parsers.TypeNginxAccess, parsers.Event{Time: t0.Add(150 * time.Second), Kind: parsers.KindAccess, Status: 499,
		RemoteAddr: []byte("162.158.1.7"), Request: []byte("GET /export.php HTTP/1.1"), RequestTime: 100_004_000, UpstreamTime: -1}, "499 at 100 s")
	sortInputs(s.in)
	inc := one(t, run(t, DefaultConfig(), s.in))
	if inc.Cause != CauseCloudflareTimeout || inc.Statuses["499"] != 1 || !equalInts(inc.EdgeStatus, []int{524}) {
		t.Fatalf("cause %s statuses %v edge %v", inc.Cause, inc.Statuses, inc.EdgeStatus)
	}
	if !contains(inc.Summary, "1 came from Cloudflare's addresses") || !contains(inc.Summary, "/export.php") {
		t.Errorf("summary: %s", inc.Summary)
	}
}

// TestCrashOpensLive: in the daemon (Emit) a crash line alone opens an
// incident, with its edge status, before the quiet gap closes it.
func TestCrashOpensLive(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Emit = true
	c := New(cfg)
	in := captured(t, "nginx-worker-crash", false)
	var opened []Incident
	for i := range in {
		c.Observe(&in[i])
		for _, u := range c.Tick(in[i].Event.Time) {
			if u.State == Opened {
				opened = append(opened, u.Incident)
			}
		}
	}
	if len(opened) != 1 || opened[0].Cause != CauseWebServerCrash || !equalInts(opened[0].EdgeStatus, []int{520}) {
		t.Fatalf("opened %+v", opened)
	}
}

// TestCrashThenOtherFailures: statuses of another kind that follow a web
// server crash within the gap are an incident of their own, not absorbed
// as the crash's "prelude".
func TestCrashThenOtherFailures(t *testing.T) {
	for _, n := range []int{2, 6} { // fewer and more than SplitRun
		in := captured(t, "nginx-worker-crash", false)
		crashAt := time.Date(2026, 12, 3, 8, 29, 21, 0, time.UTC)
		var s scenario
		for i := 0; i < n; i++ {
			at := crashAt.Add(time.Duration(10+i) * time.Second).Sub(t0)
			client, req := "203.0.113."+itoa(i+1), "GET /p"+itoa(i)+".php HTTP/1.1"
			s.proxy(at, parsers.SigConnectRefused, client, req, "connect() failed (111: Connection refused)")
			s.access(at, 502, client, req)
		}
		in = append(in, s.in...)
		sortInputs(in)
		incs := run(t, DefaultConfig(), in)
		if len(incs) != 2 || incs[0].Cause != CauseWebServerCrash || incs[1].Cause != CauseUpstreamDown || incs[1].Statuses["502"] != n {
			for _, i := range incs {
				t.Logf("%s %v", i.Cause, i.Statuses)
			}
			t.Fatalf("%d refusals: want web_server_crash then upstream_down with %d×502", n, n)
		}
	}
}

// TestAnchorSignals: which deaths of the web server's own processes open
// an incident by themselves.
func TestAnchorSignals(t *testing.T) {
	for _, tc := range []struct {
		ev   parsers.Event
		want bool
	}{
		{parsers.Event{Signal: parsers.SigServerChildSignal, ExitSig: 11}, true},                          // nginx SIGSEGV
		{parsers.Event{Signal: parsers.SigServerChildSignal, ExitSig: 9}, true},                           // nginx SIGKILL (OOM, admin)
		{parsers.Event{Signal: parsers.SigServerChildSignal, ExitSig: 15}, false},                         // told to stop
		{parsers.Event{Signal: parsers.SigServerChildSignal, ExitSig: 6, Code: []byte("AH00052")}, true},  // apache SIGABRT
		{parsers.Event{Signal: parsers.SigServerChildSignal, ExitSig: 9, Code: []byte("AH00052")}, false}, // apache kills its own stragglers
		{parsers.Event{Signal: parsers.SigSegfault, Process: []byte("nginx")}, true},
		{parsers.Event{Signal: parsers.SigSegfault, Process: []byte("apache2")}, true},
		{parsers.Event{Signal: parsers.SigSegfault, Process: []byte("php-fpm8.2")}, false}, // upstream_crash, not the web server
		{parsers.Event{Signal: parsers.SigWorkerConnections, Kind: parsers.KindProxy}, true},
	} {
		if _, got := anchorOf(&tc.ev); got != tc.want {
			t.Errorf("%v sig %d %q %q: %v, want %v", tc.ev.Signal, tc.ev.ExitSig, tc.ev.Code, tc.ev.Process, got, tc.want)
		}
	}
}

// TestCrashDuringOtherIncident: an nginx worker that dies amid an upstream
// timeout burst does not change its cause, but its visitors got 520 too.
func TestCrashDuringOtherIncident(t *testing.T) {
	var s scenario
	s.healthy(0, 40*time.Second, time.Second)
	s.failing(5*time.Second, 12, time.Second, 504, parsers.SigUpstreamTimedOut, "upstream timed out (110: Connection timed out)")
	s.add(parsers.TypeNginxError, parsers.Event{Time: t0.Add(9 * time.Second), Kind: parsers.KindProxy, Signal: parsers.SigServerChildSignal,
		ChildPID: 12577, ExitSig: 11}, "[alert] 12574#12574: worker process 12577 exited on signal 11")
	s.add(parsers.TypeNginxError, parsers.Event{Time: t0.Add(9 * time.Second), Kind: parsers.KindProxy, Signal: parsers.SigServerStarted}, "start worker processes")
	sortInputs(s.in)
	inc := one(t, run(t, DefaultConfig(), s.in))
	if inc.Cause != CauseUpstreamTimeout || !equalInts(inc.EdgeStatus, []int{520, 504}) || !contains(inc.Summary, "process 12577 died on signal 11") {
		t.Fatalf("cause %s edge %v: %s", inc.Cause, inc.EdgeStatus, inc.Summary)
	}
}
