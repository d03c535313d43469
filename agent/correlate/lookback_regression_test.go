package correlate

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

// Found by the `origin-agent run` end-to-end test: a worker OOM-killed and
// two workers crashed (SIGSEGV) in earlier incidents that had closed; then
// php-fpm was stopped. The refused connections were blamed on the old OOM
// kill (and at first on the old crashes), because the new incident's
// lookback reached back into the closed incidents' evidence.
func TestLookbackStopsAtPreviousIncident(t *testing.T) {
	sec := time.Second
	s := &scenario{}
	s.healthy(0, 10*sec, sec)
	s.kernel(10*sec, parsers.Event{Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")},
		"Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)")
	s.fpm(10*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 4121, ExitSig: 9}, "child 4121 exited on signal 9 (SIGKILL)")
	s.failing(10*sec, 1, sec, 502, parsers.SigPrematurelyClosed, "upstream prematurely closed connection")
	s.healthy(11*sec, 20*sec, sec)
	s.fpm(20*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 4200, ExitSig: 11}, "child 4200 exited on signal 11 (SIGSEGV)")
	s.failing(20*sec, 2, 0, 502, parsers.SigPrematurelyClosed, "upstream prematurely closed connection")
	s.healthy(21*sec, 30*sec, sec)
	s.fpm(30*sec, parsers.Event{Signal: parsers.SigFPMStopping}, "NOTICE: exiting, bye-bye!")
	s.failing(30*sec, 20, sec/4, 502, parsers.SigConnectNoSocket, "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory)")
	s.healthy(40*sec, 60*sec, sec)

	cfg := DefaultConfig()
	cfg.Gap = 5 * sec
	var got []Cause
	for _, inc := range run(t, cfg, s.in) {
		got = append(got, inc.Cause)
	}
	want := []Cause{CauseOOMKill, CauseUpstreamCrash, CauseUpstreamDown}
	if len(got) != len(want) {
		t.Fatalf("causes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("incident %d: cause %s, want %s (all: %v)", i+1, got[i], want[i], got)
		}
	}
}

// Found by the same test, apache in front: php-fpm was stopped a few
// seconds after an OOM-kill incident had closed. The requests in flight
// were reset (one incident, no cause in the logs), the ones after were
// refused - a second incident split from the first without a quiet gap.
// The split kept the full lookback and reached the OOM kill of the closed
// incident before the gap: the refusals were blamed on it.
func TestSplitLookbackStopsAtLastGap(t *testing.T) {
	sec := time.Second
	s := &scenario{}
	s.healthy(0, 10*sec, sec)
	s.kernel(10*sec, parsers.Event{Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")},
		"Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)")
	s.fpm(10*sec, parsers.Event{Signal: parsers.SigFPMChildExited, ChildPID: 4121, ExitSig: 9}, "child 4121 exited on signal 9 (SIGKILL)")
	s.failing(10*sec, 1, sec, 502, parsers.SigPrematurelyClosed, "upstream prematurely closed connection")
	s.healthy(11*sec, 20*sec, sec)
	s.failing(20*sec, 8, sec/20, 502, parsers.SigResetByPeer, "recv() failed (104: Connection reset by peer) while reading response header from upstream")
	s.failing(20*sec+sec/2, 20, sec/4, 502, parsers.SigConnectNoSocket, "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory)")
	s.healthy(30*sec, 50*sec, sec)

	cfg := DefaultConfig()
	cfg.Gap = 5 * sec
	incs := run(t, cfg, s.in)
	if len(incs) < 2 || incs[0].Cause != CauseOOMKill {
		t.Fatalf("incidents %v, want the OOM kill first", causes(incs))
	}
	for i, inc := range incs[1:] {
		if inc.Cause == CauseOOMKill {
			t.Errorf("incident %d blamed on the OOM kill of the closed incident before the gap (all: %v)", i+2, causes(incs))
		}
	}
	if last := incs[len(incs)-1]; last.Cause != CauseUpstreamDown {
		t.Errorf("the refusals: cause %s, want %s (all: %v)", last.Cause, CauseUpstreamDown, causes(incs))
	}
}

func causes(incs []Incident) []Cause {
	var out []Cause
	for _, inc := range incs {
		out = append(out, inc.Cause)
	}
	return out
}

// A restarted agent reads the last minutes of the kernel ring buffer (and
// of signal logs) again. The OOM kill that explained an incident closed
// before the restart must not explain the next one after a quiet gap:
// Resume carries the previous incident's end over the restart.
func TestResumeKeepsTheFloorAcrossARestart(t *testing.T) {
	sec := time.Second
	oom := func(s *scenario) {
		s.kernel(10*sec, parsers.Event{Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")},
			"Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)")
	}
	before := &scenario{}
	before.healthy(0, 10*sec, sec)
	oom(before)
	before.failing(10*sec, 3, sec/4, 502, parsers.SigPrematurelyClosed, "upstream prematurely closed connection")
	before.healthy(11*sec, 20*sec, sec)

	cfg := DefaultConfig()
	cfg.Gap = 5 * sec
	first := run(t, cfg, before.in)
	if len(first) != 1 || first[0].Cause != CauseOOMKill {
		t.Fatalf("before the restart: %+v, want one oom_kill incident", first)
	}

	// After the restart: the ring buffer's OOM kill read again, then
	// php-fpm stops and its socket refuses.
	after := &scenario{line: 1000}
	oom(after)
	after.healthy(25*sec, 30*sec, sec)
	after.fpm(30*sec, parsers.Event{Signal: parsers.SigFPMStopping}, "NOTICE: exiting, bye-bye!")
	after.failing(30*sec, 10, sec/4, 502, parsers.SigConnectNoSocket, "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory)")
	after.healthy(40*sec, 50*sec, sec)

	for _, tc := range []struct {
		name   string
		resume bool
		want   Cause
	}{
		{"resumed", true, CauseUpstreamDown},
		// Without Resume the replayed OOM kill is blamed: the test sees
		// the difference, so it would catch a Resume that does nothing.
		{"not resumed", false, CauseOOMKill},
	} {
		c := New(cfg)
		if tc.resume {
			c.Resume(first[0].End)
		}
		got := runOn(c, after.in)
		if len(got) != 1 || got[0].Cause != tc.want {
			causes := []Cause{}
			for _, g := range got {
				causes = append(causes, g.Cause)
			}
			t.Errorf("%s: causes %v, want [%s]", tc.name, causes, tc.want)
		}
	}
}
