// Command overhead measures what `origin-agent run` costs the host it
// watches: it starts the real binary tailing an nginx access log written at
// a steady rate of realistic combined-format lines (1 % of them 502), and
// samples the agent's CPU time and memory from /proc while it runs.
//
//	go run ./agent/internal/overhead [-duration 60s] [-rate 2000] [-bin PATH]
//
// It prints the share of one core the agent used (utime+stime over wall
// time, after a warm-up), its resident memory (average and highest of the
// samples, and the kernel's high-water mark VmHWM) and whether it kept up
// with the log. The targets are < 2 % of one core and < 40 MB RSS.
// It is a benchmark, not a test: the figures depend on the machine and on
// what else runs on it, so it reports them and exits 0 whenever it could
// measure (1 when it could not).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/origin-agent/origin-agent/internal/promtext"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	bin      string
	duration time.Duration
	warmup   time.Duration
	rate     int
	errRate  float64
	every    time.Duration
	keep     bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("overhead", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "bin", "", "origin-agent `binary` to measure (default: go build ./cmd/origin-agent)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "measured time, after the warm-up")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "time before sampling starts (start-up, first checks)")
	fs.IntVar(&o.rate, "rate", 2000, "access log lines per second")
	fs.Float64Var(&o.errRate, "502", 0.01, "share of lines with status 502")
	fs.DurationVar(&o.every, "sample", time.Second, "sampling interval")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, findings, agent stderr)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.rate <= 0 || o.duration <= 0 || o.every <= 0 {
		fmt.Fprintln(stderr, "overhead: -rate, -duration and -sample must be positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "overhead: %v\n", err)
		return 1
	}
	res.print(stdout, o)
	return 0
}

// result is what one measurement found.
type result struct {
	cpuPct   float64 // of one core
	rssAvg   float64 // bytes
	rssMax   int64   // highest sampled VmRSS
	hwm      int64   // VmHWM at the end
	samples  int
	written  int
	read     float64 // origin_agent_lines_read_total at the end
	wall     time.Duration
	findings int
	workDir  string
}

func (r result) print(w io.Writer, o options) {
	mb := func(b float64) string { return fmt.Sprintf("%.1f MB", b/(1<<20)) }
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(w, "origin-agent overhead: %d lines/s of nginx access log (%.0f%% 502), %v measured after %v warm-up, %d samples\n",
		o.rate, o.errRate*100, r.wall.Round(time.Second), o.warmup, r.samples)
	fmt.Fprintf(w, "  CPU        %.2f %% of one core                     (target < 2 %%: %s)\n", r.cpuPct, verdict(r.cpuPct < 2))
	fmt.Fprintf(w, "  RSS        avg %s, peak sampled %s, VmHWM %s (target < 40 MB: %s)\n",
		mb(r.rssAvg), mb(float64(r.rssMax)), mb(float64(r.hwm)), verdict(r.hwm < 40<<20))
	fmt.Fprintf(w, "  lines      written %d, read by the agent %.0f (%s)\n", r.written, r.read, keptUp(r))
	fmt.Fprintf(w, "  findings   %d lines in the file sink\n", r.findings)
	if r.workDir != "" {
		fmt.Fprintf(w, "  work dir   %s\n", r.workDir)
	}
}

func keptUp(r result) string {
	if r.read >= float64(r.written) {
		return "kept up"
	}
	return fmt.Sprintf("BEHIND by %.0f lines", float64(r.written)-r.read)
}

func measure(ctx context.Context, o options, stderr io.Writer) (res result, err error) {
	dir, err := os.MkdirTemp("", "origin-agent-overhead-")
	if err != nil {
		return res, err
	}
	if o.keep {
		res.workDir = dir
	} else {
		defer os.RemoveAll(dir)
	}
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "origin-agent")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "github.com/origin-agent/origin-agent/cmd/origin-agent")
		build.Stderr = stderr
		if err := build.Run(); err != nil {
			return res, fmt.Errorf("go build: %w", err)
		}
	}
	access := filepath.Join(dir, "access.log")
	if err := os.WriteFile(access, nil, 0o644); err != nil {
		return res, err
	}
	addr, err := freeAddr(21600, 21699)
	if err != nil {
		return res, err
	}
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "config.toml")
	// The defaults, minus what this host lacks or what is not measured
	// here: no web server or php-fpm to discover, no kernel log.
	conf := fmt.Sprintf(`[agent]
state_dir = %q
[sources]
nginx_conf = "off"
apache_conf = "off"
php_fpm_conf = "off"
nginx_access = [%q]
kernel = "off"
[metrics]
listen = %q
[[sinks]]
type = "file"
path = %q
`, state, access, addr, filepath.Join(state, "findings.jsonl"))
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return res, err
	}

	errLog, err := os.Create(filepath.Join(dir, "agent.stderr"))
	if err != nil {
		return res, err
	}
	defer errLog.Close()
	agent := exec.Command(bin, "run", "--config", cfg)
	agent.Stdout, agent.Stderr = io.Discard, errLog
	if err := agent.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", bin, err)
	}
	pid := agent.Process.Pid
	defer func() {
		agent.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { agent.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			agent.Process.Kill()
			<-done
		}
	}()
	metrics := "http://" + addr + "/metrics"
	if err := waitUp("http://"+addr+"/healthz", 10*time.Second); err != nil {
		return res, fmt.Errorf("agent pid %d: %w (see %s)", pid, err, errLog.Name())
	}
	time.Sleep(300 * time.Millisecond) // the file source opens the log at its end

	wctx, stopWriter := context.WithCancel(ctx)
	defer stopWriter()
	written := make(chan int, 1)
	werr := make(chan error, 1)
	go func() {
		n, err := writeLog(wctx, access, o.rate, o.errRate)
		written <- n
		werr <- err
	}()

	select {
	case <-time.After(o.warmup):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	clk, err := clockTicks()
	if err != nil {
		return res, err
	}
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	var rssSum float64
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	for time.Since(t0) < o.duration {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		rss, _, err := memory(pid)
		if err != nil {
			return res, err
		}
		rssSum += float64(rss)
		res.rssMax = max(res.rssMax, rss)
		res.samples++
	}
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return res, err
	}
	res.wall = time.Since(t0)
	_, res.hwm, err = memory(pid)
	if err != nil {
		return res, err
	}
	stopWriter()
	res.written = <-written
	if err := <-werr; err != nil {
		return res, fmt.Errorf("writer: %w", err)
	}
	res.cpuPct = float64(cpu1-cpu0) / float64(clk) / res.wall.Seconds() * 100
	if res.samples > 0 {
		res.rssAvg = rssSum / float64(res.samples)
	}
	// Give the agent a moment to read the last lines, then count.
	deadline := time.Now().Add(5 * time.Second)
	for {
		res.read, err = promtext.SumURL(metrics, "origin_agent_lines_read_total")
		if err != nil || res.read >= float64(res.written) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return res, fmt.Errorf("scrape %s: %w", metrics, err)
	}
	if b, err := os.ReadFile(filepath.Join(state, "findings.jsonl")); err == nil {
		res.findings = bytes.Count(b, []byte("\n"))
	}
	return res, nil
}

// writeLog appends combined-format lines to path at rate lines/s, one
// write(2) per line as nginx does without `buffer=`, until ctx ends; it
// returns how many it wrote.
func writeLog(ctx context.Context, path string, rate int, errRate float64) (int, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	const step = 10 * time.Millisecond
	perStep := float64(rate) * step.Seconds()
	tick := time.NewTicker(step)
	defer tick.Stop()
	start := time.Now()
	n := 0
	buf := make([]byte, 0, 512)
	for {
		select {
		case <-ctx.Done():
			return n, nil
		case <-tick.C:
		}
		// Catch up to the schedule, so ticks lost to scheduling do not
		// lower the rate.
		due := int(time.Since(start).Seconds()/step.Seconds()*perStep) - n
		now := time.Now()
		for range due {
			buf = appendLine(buf[:0], rng, now, errRate)
			if _, err := f.Write(buf); err != nil {
				return n, err
			}
			n++
		}
	}
}

var (
	paths = []string{"/", "/index.php", "/wp-login.php", "/wp-admin/admin-ajax.php", "/product/blue-widget-42", "/category/shoes?page=2",
		"/cart", "/checkout", "/api/v1/stock?sku=A-1093", "/search?q=red+dress&sort=price", "/static/app.7f3c1b.js",
		"/static/style.2a9e.css", "/images/hero-1600.webp", "/favicon.ico", "/robots.txt", "/feed/", "/xmlrpc.php"}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"curl/7.88.1",
	}
	referers = []string{"-", "https://www.google.com/", "https://shop.example.com/", "https://shop.example.com/cart"}
)

// appendLine appends one nginx `combined` line.
func appendLine(b []byte, rng *rand.Rand, now time.Time, errRate float64) []byte {
	status, size := 200, 512+rng.IntN(60000)
	switch r := rng.Float64(); {
	case r < errRate:
		status, size = 502, 157 // nginx's own error page
	case r < errRate+0.05:
		status, size = 304, 0
	case r < errRate+0.08:
		status, size = 404, 548
	case r < errRate+0.10:
		status, size = 301, 162
	}
	method := "GET"
	if rng.IntN(20) == 0 {
		method = "POST"
	}
	// Cloudflare ranges as the client address (set_real_ip_from not set),
	// as a site behind Cloudflare logs without the real-ip module.
	b = fmt.Appendf(b, "172.70.%d.%d - - [%s] \"%s %s HTTP/%s\" %d %d \"%s\" \"%s\"\n",
		rng.IntN(256), 1+rng.IntN(254), now.Format("02/Jan/2006:15:04:05 -0700"), method,
		paths[rng.IntN(len(paths))], []string{"1.1", "2.0"}[rng.IntN(2)], status, size,
		referers[rng.IntN(len(referers))], agents[rng.IntN(len(agents))])
	return b
}

// cpuTicks is utime+stime of pid, in clock ticks (/proc/PID/stat fields
// 14 and 15; the command name in field 2 may hold spaces, so fields are
// counted after its closing parenthesis).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14 → f[11], stime f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return u + s, nil
}

// memory is VmRSS and VmHWM of pid, in bytes.
func memory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}

// clockTicks is the kernel's USER_HZ, from the auxiliary vector
// (AT_CLKTCK), as sysconf(_SC_CLK_TCK) reads it.
func clockTicks() (int64, error) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, fmt.Errorf("read auxv: %w", err)
	}
	const atClkTck = 17
	for len(b) >= 16 {
		k, v := binary.NativeEndian.Uint64(b), binary.NativeEndian.Uint64(b[8:])
		if k == atClkTck && v > 0 {
			return int64(v), nil
		}
		b = b[16:]
	}
	return 0, errors.New("no AT_CLKTCK in /proc/self/auxv")
}

func waitUp(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not up within %v: %w", within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr is a free 127.0.0.1 port in [lo, hi].
func freeAddr(lo, hi int) (string, error) {
	for p := lo; p <= hi; p++ {
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free port in 127.0.0.1:%d-%d", lo, hi)
}
