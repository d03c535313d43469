package sink

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"

	"github.com/origin-agent/origin-agent/internal/receivers"
)

// producer is one run of internal/spoolsend, started by the test.
type producer struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	appended []string
	produced chan struct{}
}

func startProducer(t *testing.T, bin string, args ...string) *producer {
	t.Helper()
	p := &producer{cmd: exec.Command(bin, args...), produced: make(chan struct{})}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "appended "); ok {
				p.mu.Lock()
				p.appended = append(p.appended, id)
				p.mu.Unlock()
			} else if sc.Text() == "produced" {
				close(p.produced)
			}
		}
	}()
	return p
}

func (p *producer) Appended() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.appended...)
}

// TestOutageE2E: rsyslog (TCP) is stopped while findings are produced; the
// delivering process is killed with SIGKILL during the outage and started
// again on the same spool; then rsyslog comes back. Every finding whose
// Append had returned must arrive; duplicates are counted and reported.
//
// The outage lasts ORIGIN_AGENT_OUTAGE (default 12s to keep CI short; the
// issue's full 60 s: ORIGIN_AGENT_OUTAGE=60s). Backoff is capped at 1 s in
// the helper so the test does not wait for the 30 s production cap.
func TestOutageE2E(t *testing.T) {
	receivers.RequireRsyslog(t, false)
	if testing.Short() {
		t.Skip("outage test takes ~20 s")
	}
	outage := 12 * time.Second
	if v := os.Getenv("ORIGIN_AGENT_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ORIGIN_AGENT_OUTAGE: %v", err)
		}
		outage = d
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "spoolsend")
	build := exec.Command("go", "build", "-o", bin, "./internal/spoolsend")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build spoolsend: %v", err)
	}
	port := freePort(t)
	rs := receivers.StartRsyslog(t, dir, "", fmt.Sprintf(`module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="r")`, port))
	spoolDir := filepath.Join(dir, "spool")
	addr := fmt.Sprintf("tcp://127.0.0.1:%d", port)

	// Run 1 produces for longer than the outage.
	every := 50 * time.Millisecond
	n1 := int((outage+4*time.Second)/every) + 1
	p1 := startProducer(t, bin, "-spool", spoolDir, "-address", addr, "-prefix", "run1", "-n", fmt.Sprint(n1), "-every", every.String())
	time.Sleep(2 * time.Second) // healthy delivery first
	if len(rs.Lines()) == 0 {
		t.Fatal("nothing delivered while rsyslog was up")
	}
	rs.Stop()
	outageStart := time.Now()
	time.Sleep(outage / 2)
	p1.cmd.Process.Signal(syscall.SIGKILL) // by PID: the process this test started
	p1.cmd.Wait()
	run1 := p1.Appended()
	t.Logf("run 1 killed with SIGKILL after %d durable appends, %v into the outage", len(run1), time.Since(outageStart).Round(time.Millisecond))

	p2 := startProducer(t, bin, "-spool", spoolDir, "-address", addr, "-prefix", "run2", "-n", "40", "-every", every.String())
	defer func() {
		p2.cmd.Process.Signal(syscall.SIGTERM)
		p2.cmd.Wait()
	}()
	time.Sleep(time.Until(outageStart.Add(outage)))
	rs.Start()
	t.Logf("rsyslog back after %v", time.Since(outageStart).Round(time.Millisecond))
	select {
	case <-p2.produced:
	case <-time.After(30 * time.Second):
		t.Fatal("run 2 did not finish producing")
	}
	want := append(run1, p2.Appended()...)

	deadline := time.Now().Add(30 * time.Second)
	var seen map[string]int
	var missing []string
	for {
		seen = map[string]int{}
		for _, line := range rs.Lines() {
			parts := strings.SplitN(line, "|", 5)
			if len(parts) != 5 {
				t.Fatalf("bad line %q", line)
			}
			var f finding.Finding
			if err := json.Unmarshal([]byte(strings.TrimPrefix(parts[4], " ")), &f); err != nil {
				t.Fatalf("message is not a finding: %v: %q", err, parts[4])
			}
			seen[f.ID]++
		}
		missing = missing[:0]
		for _, id := range want {
			if seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged findings never arrived: %v", len(missing), len(want), missing)
	}
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	t.Logf("all %d acknowledged findings arrived (%d distinct ids at rsyslog, %d duplicate deliveries removed by id de-duplication)",
		len(want), len(seen), dups)
}
