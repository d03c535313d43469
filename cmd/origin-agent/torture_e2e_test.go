package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/promtext"
)

// The rotation torture test of issue 3, at binary level: the real
// `origin-agent run` tails an nginx access log written at ~2,000 lines/s
// while the log is rotated 200 times (rename+create and copytruncate,
// alternating) and the agent is SIGKILLed 20 times and restarted. What a
// user sees of it is the findings: every burst of 502s the writer made must
// reach the file sink as exactly one closed incident with the right count,
// and a finding id may repeat only across a SIGKILL (at-least-once).
//
// Not a timed test: the durations below only pace the load.
const (
	tortureWrite        = 60 * time.Second
	tortureRotations    = 200
	tortureKills        = 20
	tortureGap          = 2 * time.Second // [correlate] gap
	tortureBurstEvery   = 3               // seconds between bursts: > gap at 1 s time stamp resolution
	tortureLinesPerTick = 10              // every 5 ms: ~2,000 lines/s
)

func TestRotationTortureBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~65 s: runs the real binary for 60 s")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "origin-agent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	logDir, stateDir := filepath.Join(dir, "log"), filepath.Join(dir, "state")
	for _, d := range []string{logDir, stateDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	access := filepath.Join(logDir, "access.log")
	if err := os.WriteFile(access, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	findings := filepath.Join(stateDir, "findings.jsonl")
	metricsAddr := tortureFreePort(t, 21400, 21499)
	cfg := filepath.Join(dir, "config.toml")
	tortureWriteFile(t, cfg, fmt.Sprintf(`[agent]
state_dir = %q
hostname = "torture"
[sources]
nginx_conf = "off"
apache_conf = "off"
php_fpm_conf = "off"
nginx_access = [%q]
kernel = "off"
[correlate]
gap = %q
[metrics]
listen = %q
[[sinks]]
type = "file"
path = %q
`, stateDir, access, tortureGap.String(), metricsAddr, findings))

	ag := &tortureAgent{t: t, bin: bin, cfg: cfg, stderr: filepath.Join(dir, "agent.stderr"), metrics: "http://" + metricsAddr}
	ag.start()
	// First start reads from the end: write only once the file is open.
	ag.waitLog("first start: reading from the end", 10*time.Second)

	w := &tortureWriter{path: access}
	ctx, stop := context.WithTimeout(context.Background(), tortureWrite)
	defer stop()
	writerDone := make(chan error, 1)
	go func() { writerDone <- w.run(ctx) }()

	// Rotations and kills interleave on one timeline: rotations every
	// 265-305 ms (above the tailer's 250 ms poll, as logrotate always is), kills
	// at random moments, never in the first or last 2 s.
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments: seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	killAt := make([]time.Duration, tortureKills)
	span := tortureWrite - 4*time.Second
	for i := range killAt {
		slot := span / tortureKills
		killAt[i] = 2*time.Second + time.Duration(i)*slot + time.Duration(rng.Int64N(int64(slot-200*time.Millisecond)))
	}
	begin := time.Now()
	rotations, kills := 0, 0
	var readBeforeKills float64
	nextRotate := begin.Add(300 * time.Millisecond)
	runStarts := []int64{0} // findings file size when each run started
	for ctx.Err() == nil {
		now := time.Now()
		if kills < len(killAt) && now.Sub(begin) >= killAt[kills] {
			// Scrape just before the kill: lines counted by this run.
			n, err := ag.linesRead()
			if err != nil {
				t.Fatalf("kill %d: scrape metrics: %v", kills+1, err)
			}
			readBeforeKills += n
			ag.kill()
			kills++
			runStarts = append(runStarts, tortureFileSize(t, findings))
			ag.start()
		}
		if rotations < tortureRotations && !now.Before(nextRotate) {
			to := fmt.Sprintf("%s.%d", access, rotations+1)
			var err error
			if rotations%2 == 0 {
				err = w.renameRotate(to)
			} else {
				err = w.copyTruncate(to)
			}
			if err != nil {
				t.Fatalf("rotation %d: %v", rotations+1, err)
			}
			rotations++
			// Keep the last 100 generations (30 s here), as `rotate N` does:
			// a restarted agent resumes the generations it had not finished.
			os.Remove(fmt.Sprintf("%s.%d", access, rotations-100))
			nextRotate = nextRotate.Add(265*time.Millisecond + time.Duration(rng.Int64N(int64(40*time.Millisecond))))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	written, bursts := w.result()
	if len(bursts) == 0 {
		t.Fatal("the writer made no burst")
	}

	// Let the last run catch up and close the last burst, then stop it.
	last := bursts[len(bursts)-1].second
	deadline := time.Now().Add(20 * time.Second)
	var lastRun float64
	for {
		lastRun, _ = ag.linesRead()
		if readBeforeKills+lastRun >= float64(written) && tortureClosedFor(t, findings, last) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	ag.term()

	// Findings, by the run that wrote them.
	recs := tortureReadFindings(t, findings, runStarts)
	type seen struct{ last int } // the run that last emitted an id
	byID := map[string]*seen{}
	var incidentFindings, dupFindings, dupViolations int
	closed := map[string]tortureFinding{} // distinct closed findings by id
	for _, r := range recs {
		if r.f.Kind != "incident" {
			continue
		}
		incidentFindings++
		s := byID[r.f.ID]
		if s == nil {
			byID[r.f.ID] = &seen{last: r.run}
		} else {
			dupFindings++
			if r.run == s.last {
				dupViolations++
				t.Errorf("finding %s emitted twice by run %d (no SIGKILL between)", r.f.ID, r.run)
			}
			s.last = r.run
		}
		if r.f.State == "closed" {
			closed[r.f.ID] = r.f
		}
	}
	perSecond := map[time.Time][]tortureFinding{}
	for _, f := range closed {
		perSecond[f.Start.UTC()] = append(perSecond[f.Start.UTC()], f)
	}
	lost, split, wrongCount := 0, 0, 0
	for _, b := range bursts {
		fs := perSecond[b.second]
		delete(perSecond, b.second)
		switch {
		case len(fs) == 0:
			lost++
			t.Errorf("burst at %s (%d × 502) reached the sink as no closed incident", b.second.Format(time.TimeOnly), b.n)
			continue
		case len(fs) > 1:
			split++
			t.Errorf("burst at %s reported as %d incidents: %s", b.second.Format(time.TimeOnly), len(fs), tortureDescribe(fs))
		}
		if got := fs[0].Statuses["502"]; got != b.n || !fs[0].End.Equal(b.second) {
			wrongCount++
			t.Errorf("burst at %s: closed incident has %d × 502 ending %s, want %d ending at the burst",
				b.second.Format(time.TimeOnly), got, fs[0].End.UTC().Format(time.TimeOnly), b.n)
		}
	}
	for sec, fs := range perSecond {
		t.Errorf("closed incident at %s matches no burst: %s", sec.Format(time.TimeOnly), tortureDescribe(fs))
	}

	readTotal := readBeforeKills + lastRun
	if readTotal < float64(written) {
		t.Errorf("origin_agent_lines_read_total summed over runs = %.0f < %d lines written: lines were never read", readTotal, written)
	}
	t.Logf("lines written %d, read %.0f over %d runs (%.0f re-read after kills); rotations %d (%d rename, %d copytruncate); kills %d",
		written, readTotal, kills+1, readTotal-float64(written), rotations, (rotations+1)/2, rotations/2, kills)
	t.Logf("bursts %d, closed incidents %d (lost %d, split %d, wrong count %d); incident findings %d, duplicates before de-dup %d (within one run: %d)",
		len(bursts), len(closed), lost, split, wrongCount, incidentFindings, dupFindings, dupViolations)
	if t.Failed() {
		if keep := os.Getenv("ORIGIN_AGENT_TORTURE_KEEP"); keep != "" {
			if out, err := exec.Command("cp", "-a", dir, keep).CombinedOutput(); err != nil {
				t.Logf("keep %s: %v %s", keep, err, out)
			}
		}
		if b, err := os.ReadFile(ag.stderr); err == nil {
			t.Logf("agent stderr (tail):\n%s", tortureTailLines(b, 40))
		}
	}
}

// tortureFinding is the part of a finding/v1 object the test checks.
type tortureFinding struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	State    string         `json:"state"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Statuses map[string]int `json:"statuses"`
}

func tortureDescribe(fs []tortureFinding) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("%s(%d×502, %s–%s)", f.ID, f.Statuses["502"], f.Start.UTC().Format(time.TimeOnly), f.End.UTC().Format(time.TimeOnly)))
	}
	return strings.Join(s, " ")
}

type tortureRunFinding struct {
	run int
	f   tortureFinding
}

// tortureReadFindings parses the findings file; runStarts are the file sizes at
// which each run began writing, so each finding is attributed to its run.
func tortureReadFindings(t *testing.T, path string, runStarts []int64) []tortureRunFinding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []tortureRunFinding
	off, run := int64(0), 0
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		for run+1 < len(runStarts) && off >= runStarts[run+1] {
			run++
		}
		off += int64(len(line)) + 1
		if len(line) == 0 {
			continue
		}
		var f tortureFinding
		if err := json.Unmarshal(line, &f); err != nil {
			t.Errorf("findings file: torn or bad line (run %d): %v: %.200s", run, err, line)
			continue
		}
		out = append(out, tortureRunFinding{run: run, f: f})
	}
	return out
}

// tortureClosedFor reports whether the findings file holds a closed incident that
// starts at sec.
func tortureClosedFor(t *testing.T, path string, sec time.Time) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		var f tortureFinding
		if json.Unmarshal(line, &f) == nil && f.Kind == "incident" && f.State == "closed" && f.Start.Equal(sec) {
			return true
		}
	}
	return false
}

// tortureAgent is one `origin-agent run` at a time, restarted after kills.
type tortureAgent struct {
	t       *testing.T
	bin     string
	cfg     string
	stderr  string
	metrics string
	cmd     *exec.Cmd
	errf    *os.File
}

func (a *tortureAgent) start() {
	a.t.Helper()
	f, err := os.OpenFile(a.stderr, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		a.t.Fatal(err)
	}
	cmd := exec.Command(a.bin, "run", "--config", a.cfg)
	cmd.Stdout, cmd.Stderr = io.Discard, f
	if err := cmd.Start(); err != nil {
		a.t.Fatalf("start agent: %v", err)
	}
	a.cmd, a.errf = cmd, f
	a.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	// Up when /healthz answers: metrics can be scraped before the next kill.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(a.metrics + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("agent pid %d not healthy within 10 s: %v", cmd.Process.Pid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *tortureAgent) kill() {
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	a.errf.Close()
}

// term stops the agent with SIGTERM, as systemd does.
func (a *tortureAgent) term() {
	a.t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			a.t.Errorf("agent exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		a.t.Error("agent did not exit within 10 s of SIGTERM")
		a.cmd.Process.Kill()
		<-done
	}
	a.errf.Close()
}

// waitLog waits until the agent's stderr contains msg.
func (a *tortureAgent) waitLog(msg string, within time.Duration) {
	a.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(a.stderr); err == nil && bytes.Contains(b, []byte(msg)) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("agent did not log %q within %v", msg, within)
}

// linesRead is origin_agent_lines_read_total summed over paths, for the
// running agent.
func (a *tortureAgent) linesRead() (float64, error) {
	return promtext.SumURL(a.metrics+"/metrics", "origin_agent_lines_read_total")
}

// tortureWriter appends numbered combined-format lines like nginx: one
// write(2) per line to a descriptor reopened by path only when told (USR1).
// Every tortureBurstEvery seconds of wall clock it writes a burst of 502s stamped
// with that second; everything else is 200.
type tortureWriter struct {
	path string

	mu     sync.Mutex // held per line; copytruncate holds it to pause the writer
	f      *os.File
	reopen bool
	n      int
	bursts []tortureBurst
}

type tortureBurst struct {
	second time.Time // UTC, the time stamp of its lines
	n      int       // its 502s
}

func (w *tortureWriter) run(ctx context.Context) error {
	defer func() {
		w.mu.Lock()
		if w.f != nil {
			w.f.Close()
		}
		w.mu.Unlock()
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	lastBurst := int64(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now().UTC()
		sec := now.Unix()
		if sec%tortureBurstEvery == 0 && sec != lastBurst {
			lastBurst = sec
			b := tortureBurst{second: now.Truncate(time.Second), n: 3 + len(w.bursts)%5}
			for range b.n {
				if err := w.writeLine(now, 502); err != nil {
					return err
				}
			}
			w.mu.Lock()
			w.bursts = append(w.bursts, b)
			w.mu.Unlock()
		}
		for range tortureLinesPerTick {
			if err := w.writeLine(now, 200); err != nil {
				return err
			}
		}
	}
}

func (w *tortureWriter) writeLine(now time.Time, status int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil || w.reopen {
		if w.f != nil {
			w.f.Close()
		}
		f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		w.f, w.reopen = f, false
	}
	w.n++
	size := 5120 + w.n%997
	if status == 502 {
		size = 166
	}
	line := fmt.Sprintf("203.0.113.%d - - [%s] \"GET /catalog/item/%09d?ref=home HTTP/1.1\" %d %d \"https://shop.example.com/\" \"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"\n",
		1+w.n%250, now.Format("02/Jan/2006:15:04:05 -0700"), w.n, status, size)
	_, err := w.f.WriteString(line)
	return err
}

// renameRotate is logrotate's create mode followed by nginx's USR1: lines
// go on to the renamed file for a moment, then the writer reopens the path.
func (w *tortureWriter) renameRotate(to string) error {
	if err := os.Rename(w.path, to); err != nil {
		return err
	}
	time.Sleep(5 * time.Millisecond)
	w.mu.Lock()
	w.reopen = true
	w.mu.Unlock()
	return nil
}

// copyTruncate is logrotate's copytruncate with the writer paused, so
// nothing written between copy and truncate is lost.
func (w *tortureWriter) copyTruncate(to string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, err := os.ReadFile(w.path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		return err
	}
	return os.Truncate(w.path, 0)
}

func (w *tortureWriter) result() (int, []tortureBurst) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, append([]tortureBurst(nil), w.bursts...)
}

// tortureFreePort picks a free 127.0.0.1 port in [lo, hi].
func tortureFreePort(t *testing.T, lo, hi int) string {
	t.Helper()
	for p := lo; p <= hi; p++ {
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatalf("no free port in 127.0.0.1:%d-%d", lo, hi)
	return ""
}

func tortureWriteFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tortureFileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func tortureTailLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
