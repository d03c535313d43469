package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
)

// shipPort returns a loopback TCP port in 22000-22999 (the range these
// tests own) that is free right now.
func shipPort(t testing.TB) int {
	t.Helper()
	start := rand.N(1000)
	for i := range 1000 {
		p := 22000 + (start+i)%1000
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free port in 127.0.0.1:22000-22999")
	return 0
}

// shipReceiver is an in-process RFC 6587 (octet-counting) TCP syslog
// receiver that keeps every message.
type shipReceiver struct {
	l    net.Listener
	mu   sync.Mutex
	msgs []string
}

func newShipReceiver(t *testing.T, port int) *shipReceiver {
	t.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	r := &shipReceiver{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *shipReceiver) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		n, err := br.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || size <= 0 {
			return
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, string(msg))
		r.mu.Unlock()
	}
}

func (r *shipReceiver) Messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// shipFindingOf returns the finding JSON that ends an RFC 5424 message (the
// MSG part starts at the first "{").
func shipFindingOf(t testing.TB, msg string) finding.Finding {
	t.Helper()
	i := strings.Index(msg, "{")
	if i < 0 {
		t.Fatalf("message without finding JSON: %q", msg)
	}
	var f finding.Finding
	if err := json.Unmarshal([]byte(msg[i:]), &f); err != nil {
		t.Fatalf("message JSON: %v: %q", err, msg[i:])
	}
	return f
}

// writeShipConfig writes a config with a syslog tcp sink to port and a
// findings file, state in dir.
func writeShipConfig(t *testing.T, dir string, port int) string {
	t.Helper()
	cfg := fmt.Sprintf(`[agent]
state_dir = %q
hostname = "web1.example.com"

[[sinks]]
type = "syslog"
name = "syslog-1"
address = "tcp://127.0.0.1:%d"
retry_max = "1s"

[[sinks]]
type = "file"
name = "file-2"
path = %q
`, dir, port, filepath.Join(dir, "findings.jsonl"))
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// shipExampleIDs is the incident ids of `analyze ./examples`, from its
// JSON report.
func shipExampleIDs(t *testing.T) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "--format", "json", "../../examples"}, &out, &errb); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errb.String())
	}
	var rep struct {
		Incidents []struct {
			ID string `json:"id"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, inc := range rep.Incidents {
		ids = append(ids, inc.ID)
	}
	if len(ids) == 0 {
		t.Fatal("analyze ./examples found no incidents")
	}
	return ids
}

func shipReadLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func TestAnalyzeShipUsage(t *testing.T) {
	dir := t.TempDir()
	good := writeShipConfig(t, dir, 22999)
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[[sinks]]\ntype = \"syslog\"\naddress = \"carrier-pigeon://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"config without ship", []string{"--config", good, "../../examples"}, "only apply with --ship"},
		{"timeout without ship", []string{"--ship-timeout", "5s", "../../examples"}, "only apply with --ship"},
		{"zero timeout", []string{"--ship", "--config", good, "--ship-timeout", "0s", "../../examples"}, "--ship-timeout must be positive"},
		{"missing config", []string{"--ship", "--config", filepath.Join(dir, "nope.toml"), "../../examples"}, "no such file"},
		{"invalid config", []string{"--ship", "--config", bad, "../../examples"}, "invalid configuration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"analyze"}, c.args...), &out, &errb)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), c.want) {
				t.Errorf("stderr does not say %q:\n%s", c.want, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("a usage error printed a report:\n%s", out.String())
			}
		})
	}
}

// TestAnalyzeShipDelivered ships the examples to a live receiver: one closed
// finding per incident through both sinks, exit 0, report on stdout as
// without --ship.
func TestAnalyzeShipDelivered(t *testing.T) {
	ids := shipExampleIDs(t)
	dir := t.TempDir()
	port := shipPort(t)
	recv := newShipReceiver(t, port)
	cfg := writeShipConfig(t, dir, port)

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--ship", "--config", cfg, "../../examples"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "Incident 1 of 1") {
		t.Errorf("the text report is missing from stdout:\n%s", out.String())
	}
	n := len(ids)
	for _, want := range []string{
		fmt.Sprintf("syslog-1: %d of %d findings delivered\n", n, n),
		fmt.Sprintf("file-2: %d of %d findings delivered\n", n, n),
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errb.String())
		}
	}
	msgs := recv.Messages()
	if len(msgs) != n {
		t.Fatalf("receiver got %d messages, want %d", len(msgs), n)
	}
	got := map[string]finding.Finding{}
	for _, m := range msgs {
		f := shipFindingOf(t, m)
		got[f.ID] = f
	}
	for _, id := range ids {
		f, ok := got[id+"-closed"]
		if !ok {
			t.Errorf("incident %s: no closed finding arrived", id)
			continue
		}
		if f.State != finding.StateClosed || f.Kind != finding.KindIncident || f.Host != "web1.example.com" || f.IncidentID != id {
			t.Errorf("finding %s: state %q kind %q host %q incident_id %q", f.ID, f.State, f.Kind, f.Host, f.IncidentID)
		}
	}
	if lines := shipReadLines(t, filepath.Join(dir, "findings.jsonl")); len(lines) != n {
		t.Errorf("file sink has %d lines, want %d", len(lines), n)
	}
	sp, err := spool.Open(filepath.Join(dir, "spool", "syslog-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.Len() != 0 {
		t.Errorf("spool still holds %d findings after exit 0", sp.Len())
	}
}

// TestAnalyzeShipSpooled: the destination is down, so --ship gives up after
// its timeout with exit 1 and the findings stay spooled; the daemon's own
// wiring (emitters) on the same config then delivers exactly them.
func TestAnalyzeShipSpooled(t *testing.T) {
	ids := shipExampleIDs(t)
	dir := t.TempDir()
	port := shipPort(t) // nothing listens yet
	cfgPath := writeShipConfig(t, dir, port)

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--ship", "--config", cfgPath, "--ship-timeout", "1s", "--format", "json", "../../examples"}, &out, &errb)
	if code != exitFail {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errb.String())
	}
	n := len(ids)
	spoolDir := filepath.Join(dir, "spool", "syslog-1")
	want := fmt.Sprintf("syslog-1: 0 of %d findings delivered, %d left in the spool %s (the daemon delivers them on its next run)", n, n, spoolDir)
	if !strings.Contains(errb.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, errb.String())
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("--ship spoiled the JSON report on stdout:\n%s", out.String())
	}

	// The next daemon run: same config, same state_dir, receiver back up.
	recv := newShipReceiver(t, port)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sink.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, closeAll := emitters(ctx, cfg, "web1.example.com", m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	deadline := time.Now().Add(15 * time.Second)
	for len(recv.Messages()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	closeAll()
	msgs := recv.Messages()
	if len(msgs) != n {
		t.Fatalf("the daemon's deliverer sent %d spooled findings, want %d", len(msgs), n)
	}
	seen := map[string]bool{}
	for _, msg := range msgs {
		seen[shipFindingOf(t, msg).ID] = true
	}
	for _, id := range ids {
		if !seen[id+"-closed"] {
			t.Errorf("incident %s: its spooled finding was not delivered by the daemon", id)
		}
	}
}

// TestAnalyzeShipSpoolBusy: a running daemon holds the spool (bbolt's file
// lock). --ship delivers through a spool of its own for this run, leaves
// the daemon's untouched and removes its own at exit.
func TestAnalyzeShipSpoolBusy(t *testing.T) {
	ids := shipExampleIDs(t)
	n := len(ids)
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	port := shipPort(t)
	recv := newShipReceiver(t, port)
	cfg := writeShipConfig(t, dir, port)
	held, err := spool.Open(filepath.Join(dir, "spool", "syslog-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--ship", "--config", cfg, "../../examples"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	for _, want := range []string{
		"syslog-1: a running origin-agent holds its spool; delivering through this run's own",
		fmt.Sprintf("syslog-1: %d of %d findings delivered\n", n, n),
		fmt.Sprintf("file-2: %d of %d findings delivered\n", n, n),
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errb.String())
		}
	}
	seen := map[string]bool{}
	for _, m := range recv.Messages() {
		seen[shipFindingOf(t, m).ID] = true
	}
	for _, id := range ids {
		if !seen[id+"-closed"] {
			t.Errorf("incident %s: not delivered", id)
		}
	}
	if held.Len() != 0 {
		t.Errorf("the daemon's spool got %d findings from --ship", held.Len())
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("--ship left its own spool behind: %v", left)
	}
}

// TestAnalyzeShipSpoolBusyDown: the daemon holds the spool and the
// destination is down: nothing can wait for the daemon, so --ship says how
// many were not delivered and exits 1.
func TestAnalyzeShipSpoolBusyDown(t *testing.T) {
	n := len(shipExampleIDs(t))
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	cfg := writeShipConfig(t, dir, shipPort(t)) // nothing listens
	held, err := spool.Open(filepath.Join(dir, "spool", "syslog-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--ship", "--ship-timeout", "1s", "--config", cfg, "../../examples"}, &out, &errb)
	if code != exitFail {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errb.String())
	}
	want := fmt.Sprintf("syslog-1: 0 of %d findings delivered, %d not delivered within --ship-timeout (the running daemon holds the sink's spool", n, n)
	if !strings.Contains(errb.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, errb.String())
	}
	if held.Len() != 0 {
		t.Errorf("the daemon's spool got %d findings from --ship", held.Len())
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("--ship left its own spool behind: %v", left)
	}
}

// TestAnalyzeShipNoIncidents: a healthy log ships nothing and exits 0.
func TestAnalyzeShipNoIncidents(t *testing.T) {
	dir := t.TempDir()
	port := shipPort(t)
	recv := newShipReceiver(t, port)
	cfg := writeShipConfig(t, dir, port)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--ship", "--config", cfg, "../../examples/healthy"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "no incidents, nothing to ship") {
		t.Errorf("stderr:\n%s", errb.String())
	}
	if n := len(recv.Messages()); n != 0 {
		t.Errorf("%d findings shipped for a healthy log", n)
	}
}

// TestAnalyzeShipAgainSendsOneCopy: the receiver is down, --ship leaves the
// findings spooled (exit 1); the receiver comes back and --ship runs again:
// every finding arrives exactly once, not once per run.
func TestAnalyzeShipAgainSendsOneCopy(t *testing.T) {
	ids := shipExampleIDs(t)
	dir := t.TempDir()
	port := shipPort(t)
	cfg := writeShipConfig(t, dir, port)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "--ship", "--ship-timeout", "300ms", "--config", cfg, "../../examples"}, &out, &errb); code != exitFail {
		t.Fatalf("receiver down: exit %d, want %d; stderr:\n%s", code, exitFail, errb.String())
	}
	recv := newShipReceiver(t, port)
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"analyze", "--ship", "--config", cfg, "../../examples"}, &out, &errb); code != exitOK {
		t.Fatalf("receiver up: exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	if want := fmt.Sprintf("(%d were still spooled from an earlier run and were not queued twice)", len(ids)); !strings.Contains(errb.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, errb.String())
	}
	count := map[string]int{}
	for _, m := range recv.Messages() {
		count[shipFindingOf(t, m).ID]++
	}
	for _, id := range ids {
		if n := count[id+"-closed"]; n != 1 {
			t.Errorf("incident %s: %d copies arrived, want 1", id, n)
		}
	}
	if len(count) != len(ids) {
		t.Errorf("receiver got findings %v, want one per incident %v", count, ids)
	}
}

// TestSpoolsFollowSinkNames: two named sinks swap places in the file while
// one has a backlog; the backlog goes to its own destination, never to the
// other. A spool of the earlier positional naming is renamed on upgrade.
func TestSpoolsFollowSinkNames(t *testing.T) {
	dir := t.TempDir()
	deadPort, livePort := shipPort(t), shipPort(t)
	write := func(body string) string {
		p := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(p, []byte(fmt.Sprintf("[agent]\nstate_dir = %q\nhostname = \"web1\"\n%s", dir, body)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sinkA := fmt.Sprintf("[[sinks]]\ntype = \"syslog\"\nname = \"central\"\naddress = \"tcp://127.0.0.1:%d\"\nretry_max = \"1s\"\n", deadPort)
	sinkB := fmt.Sprintf("[[sinks]]\ntype = \"syslog\"\nname = \"backup\"\naddress = \"tcp://127.0.0.1:%d\"\nretry_max = \"1s\"\n", livePort)
	live := newShipReceiver(t, livePort)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "--ship", "--ship-timeout", "2s", "--config", write(sinkA + sinkB), "../../examples"}, &out, &errb); code != exitFail {
		t.Fatalf("exit %d, want %d (central is down); stderr:\n%s", code, exitFail, errb.String())
	}
	first := len(live.Messages())
	if first == 0 {
		t.Fatalf("backup got nothing; stderr:\n%s", errb.String())
	}
	// Swapped: backup first, central second. The central backlog must stay
	// central's: nothing more may reach backup than this run's own copies,
	// which it already has (same ids).
	errb.Reset()
	run(context.Background(), []string{"analyze", "--ship", "--ship-timeout", "2s", "--config", write(sinkB + sinkA), "../../examples"}, &out, &errb)
	seen := map[string]int{}
	for _, m := range live.Messages() {
		seen[shipFindingOf(t, m).ID]++
	}
	if got := len(live.Messages()); got != 2*first {
		t.Errorf("backup got %d findings after the swap, want %d (its own two runs): central's backlog was misdelivered", got, 2*first)
	}
	sp, err := spool.Open(filepath.Join(dir, "spool", "central"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Len() != first {
		t.Errorf("central's spool holds %d findings, want its backlog of %d", sp.Len(), first)
	}
	sp.Close()

	// Upgrade: a spool named by type and position becomes the sink's.
	if err := os.Rename(filepath.Join(dir, "spool", "central"), filepath.Join(dir, "spool", "syslog-1")); err != nil {
		t.Fatal(err)
	}
	unnamed := fmt.Sprintf("[[sinks]]\ntype = \"syslog\"\naddress = \"tcp://127.0.0.1:%d\"\nretry_max = \"1s\"\n", deadPort)
	c, err := config.Load(write(unnamed))
	if err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	sink.PrepareSpools(dir, c.Sinks, slog.New(slog.NewTextHandler(&logb, nil)))
	sp, err = spool.Open(sink.SpoolDir(dir, c.Sinks[0]), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.Len() != first {
		t.Errorf("migrated spool %s holds %d findings, want %d; log:\n%s", c.Sinks[0].Identity(), sp.Len(), first, logb.String())
	}
	if !strings.Contains(logb.String(), "spool of no configured sink") || !strings.Contains(logb.String(), "backup") {
		t.Errorf("the spool of the removed sink \"backup\" is not reported:\n%s", logb.String())
	}
}
