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
