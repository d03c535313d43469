package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/kernel"
	"github.com/origin-agent/origin-agent/parsers/nginx"
)

// TestCrashKeepsLookbackSignals: a crash during a burst leaves on disk the
// positions file as it was last written. The agent restarted from it must
// name the same cause as before the crash: it re-reads not only the burst
// but also the OOM kill logged before it, which the positions of the kernel
// log had not passed yet.
//
// The crash is the positions file copied while the incident is open (what
// a SIGKILL leaves) and a second agent started on that copy; the real
// SIGKILL with the binary is TestRotationTortureBinary's job.
func TestCrashKeepsLookbackSignals(t *testing.T) {
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	errlog := filepath.Join(dir, "error.log")
	kern := filepath.Join(dir, "kern.log")
	appendLine(t, access, `198.51.100.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`)
	appendLine(t, errlog, `2026/11/20 10:00:00 [notice] 1#1: start worker processes`)
	appendLine(t, kern, `2026-11-20T10:00:00.000000+00:00 web1 kernel: Linux version 6.1.0`)

	cfg := correlate.DefaultConfig()
	cfg.Gap = 30 * time.Second // the incident stays open while the "crash" is taken
	cfg.Settle = time.Second
	state := filepath.Join(dir, "state")
	opts := func(out *collect, stateDir string) Options {
		return Options{
			StateDir: stateDir,
			Host:     "web1",
			Watches: []Watch{
				{Path: access, Type: parsers.TypeNginxAccess, Parse: nginx.NewAccess(nginx.Combined(), parsers.Options{})},
				{Path: errlog, Type: parsers.TypeNginxError, Parse: nginx.NewError(parsers.Options{Location: time.Local})},
				{Path: kern, Type: parsers.TypeKernel, Parse: kernel.New(parsers.Options{Location: time.Local})},
			},
			Correlate:    cfg,
			SyncInterval: 100 * time.Millisecond,
			Emitters:     []Emitter{out},
			Log:          testLog(t),
		}
	}
	out := newCollect()
	_, stop := startAgent(t, opts(out, state))

	// The kernel kills a php-fpm worker; a second later its requests fail.
	oomAt := time.Now()
	appendLine(t, kern, oomAt.UTC().Format("2006-01-02T15:04:05.000000-07:00")+
		` web1 kernel: Out of memory: Killed process 4121 (php-fpm8.2) total-vm:1048576kB, anon-rss:900000kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:2000kB oom_score_adj:0`)
	time.Sleep(time.Second) // read, and past several positions syncs
	now := time.Now()
	for i := range 3 {
		client := fmt.Sprintf("203.0.113.%d", i+1)
		appendLine(t, errlog, now.Local().Format("2006/01/02 15:04:05")+fmt.Sprintf(` [error] 12#12: *%d recv() failed (104: Connection reset by peer) while reading response header from upstream, client: %s, server: _, request: "GET /x.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"`, i+5, client))
		appendLine(t, access, client+` - - [`+now.UTC().Format("02/Jan/2006:15:04:05 -0700")+`] "GET /x.php HTTP/1.1" 502 157 "-" "curl/8.0"`)
	}
	before, _ := out.wait(t, 10*time.Second, func(f finding.Finding) bool {
		return f.State != finding.StateClosed && f.Cause == correlate.CauseOOMKill
	})
	time.Sleep(300 * time.Millisecond) // a few more syncs while the incident is open

	// The crash: what is on disk now is all a restarted agent has.
	crashed := filepath.Join(dir, "crashed")
	if err := os.MkdirAll(crashed, 0o700); err != nil {
		t.Fatal(err)
	}
	pos, err := os.ReadFile(filepath.Join(state, "positions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(crashed, "positions.json"), pos, 0o600); err != nil {
		t.Fatal(err)
	}
	stop()

	out2 := newCollect()
	startAgent(t, opts(out2, crashed))
	after, _ := out2.wait(t, 10*time.Second, func(f finding.Finding) bool { return f.Kind == finding.KindIncident })
	if after.IncidentID != before.IncidentID {
		t.Errorf("after the crash the burst is incident %s, before it was %s", after.IncidentID, before.IncidentID)
	}
	if after.Cause != correlate.CauseOOMKill {
		t.Errorf("after the crash the cause is %s (%s), before it was oom_kill: the OOM kill line was not re-read", after.Cause, after.Summary)
	}
}
