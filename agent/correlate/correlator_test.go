package correlate

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// scenario builds a time-ordered input stream.
type scenario struct {
	in   []Input
	line int64
}

func (s *scenario) add(typ parsers.Type, ev parsers.Event, text string) {
	s.line++
	s.in = append(s.in, Input{Type: typ, Event: ev, Path: string(typ) + ".log", Line: s.line, Text: []byte(text)})
}

func (s *scenario) access(at time.Duration, status int, client, req string) {
	s.add(parsers.TypeNginxAccess, parsers.Event{Time: t0.Add(at), Kind: parsers.KindAccess, Status: status,
		Client: []byte(client), RemoteAddr: []byte(client), Request: []byte(req), RequestTime: -1, UpstreamTime: -1},
		client+` - - "`+req+`" `+itoa(status))
}

func (s *scenario) healthy(from, to time.Duration, every time.Duration) {
	for at := from; at < to; at += every {
		s.access(at, 200, "198.51.100.1", "GET / HTTP/1.1")
	}
}

func (s *scenario) proxy(at time.Duration, sig parsers.Signal, client, req, text string) {
	s.add(parsers.TypeNginxError, parsers.Event{Time: t0.Add(at), Kind: parsers.KindProxy, Signal: sig,
		Client: []byte(client), Request: []byte(req), Upstream: []byte("fastcgi://unix:/run/php/php8.2-fpm.sock:")}, text)
}

func (s *scenario) fpm(at time.Duration, ev parsers.Event, text string) {
	ev.Time = t0.Add(at)
	ev.Kind = parsers.KindFPM
	s.add(parsers.TypePHPFPM, ev, text)
}

func (s *scenario) kernel(at time.Duration, ev parsers.Event, text string) {
	ev.Time = t0.Add(at)
	ev.Kind = parsers.KindKernel
	s.add(parsers.TypeKernel, ev, text)
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func run(t *testing.T, cfg Config, in []Input) []Incident {
	t.Helper()
	return runOn(New(cfg), in)
}

// runOn is run on a correlator the test prepared (e.g. Resumed).
func runOn(c *Correlator, in []Input) []Incident {
	var out []Incident
	for _, i := range in {
		c.Observe(&i)
		for _, u := range c.Tick(i.Event.Time) {
			if u.State == Closed {
				out = append(out, u.Incident)
			}
		}
	}
	for _, u := range c.Flush() {
		if u.State == Closed {
			out = append(out, u.Incident)
		}
	}
	return out
}

// failing adds n failed requests, one every step from at, each with its
// proxy error line (when sig is not SigNone) logged just before.
func (s *scenario) failing(at time.Duration, n int, step time.Duration, status int, sig parsers.Signal, errText string) {
	for i := 0; i < n; i++ {
		client := "203.0.113." + fmtInt(i%200+1)
		req := "GET /page" + fmtInt(i) + ".php HTTP/1.1"
		if sig != parsers.SigNone {
			s.proxy(at, sig, client, req, errText)
		}
		s.access(at, status, client, req)
		at += step
	}
}

func TestCauses(t *testing.T) {
	sec := time.Second
	cases := []struct {
		name    string
		build   func(s *scenario)
		want    []Cause
		contain string // in summary or remediation of the first incident
	}{
		{
			name: "pool exhausted",
			build: func(s *scenario) {
				s.healthy(0, 60*sec, sec)
				s.fpm(61*sec, parsers.Event{Signal: parsers.SigFPMMaxChildren, Pool: []byte("www"), Value: 5},
					"WARNING: [pool www] server reached pm.max_children setting (5), consider raising it")
				s.failing(90*sec, 20, sec/2, 504, parsers.SigUpstreamTimedOut, "upstream timed out (110: Connection timed out)")
				s.healthy(120*sec, 300*sec, sec)
			},
			want:    []Cause{CausePoolExhausted},
			contain: "pm.max_children = 5",
		},
		{
			name: "pool exhausted names the slow script",
			build: func(s *scenario) {
				s.healthy(0, 60*sec, sec)
				for i, script := range []string{"/var/www/report.php", "/var/www/index.php", "/var/www/report.php", "/var/www/report.php"} {
					s.fpm(time.Duration(80+i)*sec, parsers.Event{Signal: parsers.SigFPMSlowlog, Pool: []byte("www"), ChildPID: 4100 + i, Process: []byte(script)},
						"WARNING: [pool www] child "+itoa(4100+i)+", script '"+script+"' (request: \"GET /x\") executing too slow (5.01 sec), logging")
				}
				s.fpm(85*sec, parsers.Event{Signal: parsers.SigFPMMaxChildren, Pool: []byte("www"), Value: 5},
					"WARNING: [pool www] server reached pm.max_children setting (5), consider raising it")
				s.failing(90*sec, 20, sec/2, 504, parsers.SigUpstreamTimedOut, "upstream timed out (110: Connection timed out)")
				s.healthy(120*sec, 300*sec, sec)
			},
			want:    []Cause{CausePoolExhausted},
			contain: "/var/www/report.php running slow",
		},
		{
			name: "upstream timeout names the slow script",
			build: func(s *scenario) {
				s.healthy(0, 60*sec, sec)
				s.fpm(80*sec, parsers.Event{Signal: parsers.SigFPMSlowlog, Pool: []byte("www"), ChildPID: 4100, Process: []byte("/var/www/export.php")},
					"WARNING: [pool www] child 4100, script '/var/www/export.php' (request: \"GET /export.php\") executing too slow (5.01 sec), logging")
				s.failing(90*sec, 5, sec, 504, parsers.SigUpstreamTimedOut, "upstream timed out (110: Connection timed out)")
				s.healthy(120*sec, 300*sec, sec)
			},
			want:    []Cause{CauseUpstreamTimeout},
			contain: "Make /var/www/export.php faster: php-fpm logged it executing too slow 1 time(s)",
		},
		{
			name: "php-fpm down",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.fpm(30*sec, parsers.Event{Signal: parsers.SigFPMStopping}, "NOTICE: Terminating ...")
				s.failing(31*sec, 30, sec/3, 502, parsers.SigConnectNoSocket, "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory)")
				s.healthy(60*sec, 200*sec, sec)
			},
			want:    []Cause{CauseUpstreamDown},
			contain: "php-fpm stopped",
		},
		{
			name: "oom kill joined by pid",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.kernel(40*sec, parsers.Event{Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")},
					"Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)")
				s.fpm(40*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 4121, ExitSig: 9},
					"WARNING: [pool www] child 4121 exited on signal 9 (SIGKILL) after 10.1 seconds from start")
				s.failing(40*sec, 3, sec/4, 502, parsers.SigResetByPeer, "recv() failed (104: Connection reset by peer)")
				s.healthy(41*sec, 200*sec, sec)
			},
			want:    []Cause{CauseOOMKill},
			contain: "4121",
		},
		{
			name: "request terminated",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.fpm(35*sec, parsers.Event{Signal: parsers.SigFPMExecTimeout, ChildPID: 77, Value: 5, Process: []byte("/var/www/slow.php")},
					"WARNING: [pool www] child 77, script '/var/www/slow.php' (request: \"GET /slow.php\") execution timed out (5.012 sec), terminating")
				s.fpm(35*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 77, ExitSig: 15},
					"WARNING: [pool www] child 77 exited on signal 15 (SIGTERM) after 20 seconds from start")
				s.failing(35*sec, 2, sec/4, 502, parsers.SigPrematurelyClosed, "upstream prematurely closed connection")
				s.healthy(36*sec, 200*sec, sec)
			},
			want:    []Cause{CauseRequestTerminated},
			contain: "request_terminate_timeout",
		},
		{
			name: "segfault",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.fpm(35*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 78, ExitSig: 11},
					"WARNING: [pool www] child 78 exited on signal 11 (SIGSEGV - core dumped) after 3 seconds from start")
				s.failing(35*sec, 1, sec, 502, parsers.SigPrematurelyClosed, "upstream prematurely closed connection")
				s.healthy(36*sec, 200*sec, sec)
			},
			want:    []Cause{CauseUpstreamCrash},
			contain: "SIGSEGV",
		},
		{
			name: "reset with nothing else is unknown, not a guess",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.fpm(1*sec, parsers.Event{Signal: parsers.SigFPMStarted}, "NOTICE: ready to handle connections")
				s.failing(35*sec, 4, sec, 502, parsers.SigResetByPeer, "recv() failed (104: Connection reset by peer)")
				s.healthy(40*sec, 200*sec, sec)
			},
			want: []Cause{CauseUnknown},
		},
		{
			name: "application answered 502 itself",
			build: func(s *scenario) {
				s.proxy(0, parsers.SigServerStarted, "", "", "start worker processes")
				s.healthy(0, 30*sec, sec)
				s.failing(35*sec, 6, sec, 502, parsers.SigNone, "")
				s.healthy(42*sec, 200*sec, sec)
			},
			want: []Cause{CauseApplicationError},
		},
		{
			name: "access log alone is unknown",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.failing(35*sec, 6, sec, 502, parsers.SigNone, "")
				s.healthy(42*sec, 200*sec, sec)
			},
			want:    []Cause{CauseUnknown},
			contain: "error log",
		},
		{
			name: "two bursts with a quiet gap are two incidents",
			build: func(s *scenario) {
				s.failing(0, 5, sec, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
				s.healthy(5*sec, 200*sec, sec)
				s.failing(200*sec, 5, sec, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
			},
			want: []Cause{CauseUpstreamDown, CauseUpstreamDown},
		},
		{
			name: "pool exhaustion then php-fpm stopped, touching: two incidents",
			build: func(s *scenario) {
				s.fpm(0, parsers.Event{Signal: parsers.SigFPMMaxChildren, Pool: []byte("www"), Value: 3},
					"WARNING: [pool www] server reached pm.max_children setting (3), consider raising it")
				s.failing(10*sec, 20, sec/2, 504, parsers.SigUpstreamTimedOut, "upstream timed out (110: Connection timed out)")
				s.fpm(20*sec, parsers.Event{Signal: parsers.SigFPMStopping}, "NOTICE: Terminating ...")
				s.failing(20*sec, 20, sec/2, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
			},
			want: []Cause{CausePoolExhausted, CauseUpstreamDown},
		},
		{
			name: "OOM kill of the php-fpm master, then refusals",
			build: func(s *scenario) {
				s.healthy(0, 30*sec, sec)
				s.kernel(30*sec, parsers.Event{Signal: parsers.SigOOMKill, ChildPID: 900, Process: []byte("php-fpm8.2")},
					"Out of memory: Killed process 900 (php-fpm8.2)")
				s.failing(31*sec, 10, sec/2, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
			},
			want:    []Cause{CauseOOMKill},
			contain: "stopped accepting",
		},
		{
			name: "apache: a full backlog (errno 11) is pool exhaustion, not a dead upstream",
			build: func(s *scenario) {
				for i := 0; i < 6; i++ {
					at := time.Duration(i) * sec
					s.add(parsers.TypeApacheError, parsers.Event{Time: t0.Add(at), Kind: parsers.KindProxy, Signal: parsers.SigApacheNoSocket, Errno: 11,
						Client: []byte("203.0.113.9")}, "(11)Resource temporarily unavailable: [client 203.0.113.9:5] AH02454: FCGI: attempt to connect to Unix domain socket /run/php/php8.2-fpm.sock (localhost:8000) failed")
					s.add(parsers.TypeApacheAccess, parsers.Event{Time: t0.Add(at), Kind: parsers.KindAccess, Status: 503,
						Client: []byte("203.0.113.9"), RemoteAddr: []byte("203.0.113.9"), RequestTime: -1}, "203.0.113.9 - - \"GET / HTTP/1.1\" 503")
				}
			},
			want: []Cause{CausePoolExhausted},
		},
		{
			name: "healthy traffic yields nothing",
			build: func(s *scenario) {
				s.healthy(0, 600*sec, sec/4)
			},
			want: nil,
		},
		{
			name: "header too big",
			build: func(s *scenario) {
				s.failing(0, 3, sec, 502, parsers.SigHeaderTooBig, "upstream sent too big header while reading response header from upstream")
			},
			want:    []Cause{CauseHeaderTooBig},
			contain: "fastcgi_buffer_size",
		},
		{
			name: "timeouts without a pool warning are a slow upstream",
			build: func(s *scenario) {
				s.fpm(0, parsers.Event{Signal: parsers.SigFPMStarted}, "NOTICE: ready to handle connections")
				s.failing(100*sec, 3, sec, 504, parsers.SigUpstreamTimedOut, "upstream timed out (110: Connection timed out)")
			},
			want: []Cause{CauseUpstreamTimeout},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s scenario
			tc.build(&s)
			got := run(t, DefaultConfig(), s.in)
			if len(got) != len(tc.want) {
				for _, g := range got {
					t.Logf("got %s %s: %s", g.Start.Format(time.TimeOnly), g.Cause, g.Summary)
				}
				t.Fatalf("got %d incidents, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].Cause != w {
					t.Errorf("incident %d: cause %s (%s), want %s", i, got[i].Cause, got[i].Summary, w)
				}
				if got[i].Summary == "" || got[i].Remediation == "" || got[i].ID == "" {
					t.Errorf("incident %d: empty summary, remediation or id: %+v", i, got[i])
				}
			}
			if tc.contain != "" && len(got) > 0 {
				if txt := got[0].Summary + " " + got[0].Remediation; !strings.Contains(txt, tc.contain) {
					t.Errorf("want %q in %q", tc.contain, txt)
				}
			}
		})
	}
}

func TestCountsAndEvidence(t *testing.T) {
	var s scenario
	sec := time.Second
	s.healthy(0, 10*sec, sec)
	s.kernel(10*sec, parsers.Event{Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")}, "Killed process 4121 (php-fpm8.2)")
	s.fpm(10*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 4121, ExitSig: 9}, "child 4121 exited on signal 9 (SIGKILL)")
	s.failing(10*sec, 4, sec, 502, parsers.SigResetByPeer, "recv() failed (104: Connection reset by peer)")
	s.healthy(10*sec, 20*sec, sec) // interleaved healthy requests inside the incident
	got := run(t, DefaultConfig(), s.in)
	if len(got) != 1 {
		t.Fatalf("got %d incidents", len(got))
	}
	inc := got[0]
	if inc.Statuses["502"] != 4 || inc.Statuses["504"] != 0 {
		t.Errorf("statuses %v", inc.Statuses)
	}
	// 4 failures plus the healthy requests at seconds 10..13.
	if inc.Requests != 8 {
		t.Errorf("requests %d, want 8", inc.Requests)
	}
	if !inc.Start.Equal(t0.Add(10*sec)) || !inc.End.Equal(t0.Add(13*sec)) {
		t.Errorf("span %v..%v", inc.Start, inc.End)
	}
	var sawKernel, sawFPM bool
	for _, e := range inc.Evidence {
		sawKernel = sawKernel || strings.Contains(e.Text, "Killed process 4121")
		sawFPM = sawFPM || strings.Contains(e.Text, "child 4121 exited")
		if e.Path == "" || e.Line == 0 {
			t.Errorf("evidence without place: %+v", e)
		}
	}
	if !sawKernel || !sawFPM {
		t.Errorf("evidence lacks the deciding lines: %+v", inc.Evidence)
	}
	// Same input, same id: ids are stable for de-duplication.
	again := run(t, DefaultConfig(), s.in)
	if again[0].ID != inc.ID {
		t.Errorf("id not stable: %s vs %s", again[0].ID, inc.ID)
	}
}

func TestStreamingOpensBeforeClose(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Emit = true
	c := New(cfg)
	var s scenario
	s.failing(0, 3, time.Second, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
	for _, in := range s.in {
		c.Observe(&in)
	}
	ups := c.Tick(t0.Add(2*time.Second + cfg.Settle))
	if len(ups) == 0 || ups[0].State != Opened || ups[0].Incident.Cause != CauseUpstreamDown {
		t.Fatalf("want an opened upstream_down within settle time, got %+v", ups)
	}
	if ups := c.Tick(t0.Add(30 * time.Second)); len(ups) != 0 {
		for _, u := range ups {
			if u.State == Closed {
				t.Fatalf("closed before the gap: %+v", u)
			}
		}
	}
	ups = c.Tick(t0.Add(2*time.Second + cfg.Gap + time.Second))
	if len(ups) != 1 || ups[0].State != Closed || ups[0].Incident.Statuses["502"] != 3 {
		t.Fatalf("want one closed incident with 3×502, got %+v", ups)
	}
}

func TestProxyErrorsAsRequests(t *testing.T) {
	var s scenario
	for i := 0; i < 5; i++ {
		s.proxy(time.Duration(i)*time.Second, parsers.SigConnectRefused, "203.0.113.9", "GET / HTTP/1.1", "connect() failed (111: Connection refused)")
	}
	cfg := DefaultConfig()
	if got := run(t, cfg, s.in); len(got) != 0 {
		t.Fatalf("without the option proxy errors alone make no incident, got %d", len(got))
	}
	cfg.ProxyErrorsAsRequests = true
	got := run(t, cfg, s.in)
	if len(got) != 1 || got[0].Cause != CauseUpstreamDown || got[0].Statuses["502"] != 5 {
		t.Fatalf("got %+v", got)
	}
}

func TestPreludeOfOtherFamilyJoinsIncident(t *testing.T) {
	var s scenario
	sec := time.Second
	s.fpm(9*sec, parsers.Event{Signal: parsers.SigFPMStopping}, "NOTICE: Terminating ...")
	s.failing(10*sec, 1, sec, 502, parsers.SigResetByPeer, "recv() failed (104: Connection reset by peer)")
	s.failing(11*sec, 10, sec/2, 502, parsers.SigConnectRefused, "connect() failed (111: Connection refused)")
	got := run(t, DefaultConfig(), s.in)
	if len(got) != 1 || got[0].Cause != CauseUpstreamDown || got[0].Statuses["502"] != 11 {
		for _, g := range got {
			t.Logf("%s %v", g.Cause, g.Statuses)
		}
		t.Fatalf("want one upstream_down incident of 11")
	}
}

// TestLateSignalUpdatesOpenIncident: a status classified before its proxy
// error was read is reported again as soon as that error arrives.
func TestLateSignalUpdatesOpenIncident(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Emit = true
	c := New(cfg)
	var s scenario
	s.failing(0, 2, 0, 502, parsers.SigNone, "")
	for _, in := range s.in {
		c.Observe(&in)
	}
	ups := c.Tick(t0.Add(cfg.Settle + time.Millisecond))
	if len(ups) == 0 || ups[0].Incident.Cause == CauseUpstreamDown {
		t.Fatalf("before the error line: %+v", ups)
	}
	var late scenario
	late.proxy(0, parsers.SigConnectRefused, "203.0.113.1", "GET /page0.php HTTP/1.1", "connect() failed (111: Connection refused)")
	c.Observe(&late.in[0])
	ups = c.Tick(t0.Add(cfg.Settle + 2*time.Millisecond))
	if len(ups) != 1 || ups[0].State != Updated || ups[0].Incident.Cause != CauseUpstreamDown {
		t.Fatalf("after the error line: %+v", ups)
	}
}

// TestLiveSettleCountsFromArrival: access logs carry whole seconds, so a
// status logged at 10:00:00 may arrive at 10:00:00.9 with its proxy error
// a moment behind it. Settling by the logged time classified such statuses
// at the next tick without their errors; a run of them then split one
// exhausted pool into several incidents (seen live in TestRunE2E).
func TestLiveSettleCountsFromArrival(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Emit = true
	cfg.Settle = time.Second
	c := New(cfg)
	var early, late scenario
	early.failing(0, 5, 0, 502, parsers.SigConnectAgain, "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable)")
	for _, in := range early.in {
		c.Observe(&in)
	}
	c.Tick(t0.Add(900 * time.Millisecond))
	var errs scenario
	for i := 5; i < 11; i++ {
		client, req := "203.0.113."+fmtInt(i+1), "GET /page"+fmtInt(i)+".php HTTP/1.1"
		late.access(0, 502, client, req)
		errs.proxy(0, parsers.SigConnectAgain, client, req, "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable)")
	}
	for _, in := range late.in {
		c.Observe(&in)
	}
	// The next tick crosses the logged second; the error lines follow it.
	ups := c.Tick(t0.Add(1100 * time.Millisecond))
	for _, in := range errs.in {
		c.Observe(&in)
	}
	ups = append(ups, c.Tick(t0.Add(5*time.Second))...)
	ups = append(ups, c.Tick(t0.Add(cfg.Gap+10*time.Second))...)
	var closed []Incident
	for _, u := range ups {
		if u.State == Closed {
			closed = append(closed, u.Incident)
		}
	}
	if len(closed) != 1 || closed[0].Statuses["502"] != 11 || closed[0].Cause != CausePoolExhausted {
		for _, g := range closed {
			t.Logf("%s %v", g.Cause, g.Statuses)
		}
		t.Fatalf("want one php_fpm_pool_exhausted incident of 11×502, got %d incidents", len(closed))
	}
}

// TestKernelCoverageBySpan: a worker SIGKILLed with no OOM kill in the
// kernel log is "not the OOM killer" only when that log reaches back to
// the incident. A kernel log that begins later (a journal that lost the
// older boot, a kern.log rotated away) is no witness: the kill stays
// "most likely the OOM killer".
func TestKernelCoverageBySpan(t *testing.T) {
	sec := time.Second
	build := func(kernelAt time.Duration) []Input {
		var s scenario
		s.healthy(0, 30*sec, sec)
		if kernelAt < 40*sec {
			s.kernel(kernelAt, parsers.Event{Signal: parsers.SigSegfault, ChildPID: 99, Process: []byte("cron")}, "cron[99]: segfault at 0")
		}
		s.fpm(40*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 4121, ExitSig: 9}, "child 4121 exited on signal 9 (SIGKILL)")
		s.failing(40*sec, 3, sec/4, 502, parsers.SigResetByPeer, "recv() failed (104: Connection reset by peer)")
		s.healthy(41*sec, 200*sec, sec)
		if kernelAt >= 40*sec {
			s.kernel(kernelAt, parsers.Event{Signal: parsers.SigSegfault, ChildPID: 99, Process: []byte("cron")}, "cron[99]: segfault at 0")
		}
		// Feed in time order, as analyze merges files.
		sort.SliceStable(s.in, func(i, j int) bool { return s.in[i].Event.Time.Before(s.in[j].Event.Time) })
		return s.in
	}
	for _, tc := range []struct {
		name     string
		kernelAt time.Duration
		want     Cause
		contain  string
	}{
		{"kernel log from before the incident", 5 * sec, CauseUpstreamCrash, "not by the OOM killer"},
		{"kernel log begins during the incident", 45 * sec, CauseOOMKill, "most likely by the OOM killer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, DefaultConfig(), build(tc.kernelAt))
			if len(got) != 1 || got[0].Cause != tc.want || !strings.Contains(got[0].Summary, tc.contain) {
				for _, g := range got {
					t.Logf("%s: %s", g.Cause, g.Summary)
				}
				t.Fatalf("want one %s incident saying %q", tc.want, tc.contain)
			}
		})
	}
}
