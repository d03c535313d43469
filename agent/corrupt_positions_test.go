package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

// TestCorruptPositionsKeepsBurstWrittenWhileDown: the agent stops, a burst
// is logged, the positions file is found corrupt at the next start. The
// burst is reported (the logs are read from their start, not from their
// end), and the bad file is kept aside.
func TestCorruptPositionsKeepsBurstWrittenWhileDown(t *testing.T) {
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	errlog := filepath.Join(dir, "error.log")
	appendLine(t, access, `198.51.100.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`)
	appendLine(t, errlog, `2026/11/20 10:00:00 [notice] 1#1: start worker processes`)
	opt := Options{
		StateDir:  filepath.Join(dir, "state"),
		Host:      "web1",
		Watches:   nginxWatches(access, errlog),
		Correlate: liveCorrelate(),
		Log:       testLog(t),
	}
	// run runs an agent until until says so (or d passed).
	run := func(out *collect, d time.Duration, until func() bool) {
		t.Helper()
		opt.Emitters = []Emitter{out}
		_, stop := startAgent(t, opt)
		for deadline := time.Now().Add(d); !until() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		stop()
	}
	posPath := filepath.Join(opt.StateDir, positionsFile)
	run(newCollect(), 10*time.Second, func() bool { _, err := os.Stat(posPath); return err == nil })

	now := time.Now()
	for i := 0; i < 3; i++ {
		client := fmt.Sprintf("203.0.113.%d", i+1)
		appendLine(t, errlog, now.Local().Format("2006/01/02 15:04:05")+` [error] 12#12: *`+fmt.Sprint(i+5)+` connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: `+client+`, server: _, request: "GET /x.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"`)
		appendLine(t, access, client+` - - [`+now.UTC().Format("02/Jan/2006:15:04:05 -0700")+`] "GET /x.php HTTP/1.1" 502 157 "-" "curl/8.0"`)
	}
	if err := os.WriteFile(posPath, []byte(`{"version":1,"positions":[{"path":"`), 0o600); err != nil {
		t.Fatal(err)
	}

	out := newCollect()
	var f finding.Finding
	run(out, 20*time.Second, func() bool {
		select {
		case got := <-out.ch:
			if got.Cause == correlate.CauseUpstreamDown {
				f = got
				return true
			}
		default:
		}
		return false
	})
	if f.Statuses["502"] == 0 || f.Start.Unix() != now.Unix() {
		t.Errorf("no finding of the 502s logged while the agent was down: %+v", f)
	}
	if aside, _ := filepath.Glob(posPath + ".corrupt-*"); len(aside) != 1 {
		t.Errorf("corrupt positions kept as %v, want one file", aside)
	}
}
