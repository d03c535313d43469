package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/origin-agent/origin-agent/agent"
	"github.com/origin-agent/origin-agent/agent/audit"
	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/discover"
	"github.com/origin-agent/origin-agent/agent/sink"
	"github.com/origin-agent/origin-agent/agent/source/journal"
	"github.com/origin-agent/origin-agent/agent/source/kmsg"
	"github.com/origin-agent/origin-agent/agent/source/oomwatch"
	"github.com/origin-agent/origin-agent/firewall"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/detect"
	"github.com/origin-agent/origin-agent/parsers/kernel"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config `FILE` (default "+config.DefaultPath+"; when it does not exist the defaults apply)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent run [--config FILE]\n\n"+
			"Tail the web server, php-fpm and kernel logs, correlate them and emit findings.\n"+
			"SIGHUP reloads the config (positions are kept), SIGTERM stops cleanly.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent run: invalid configuration:\n%v\n", err)
		return exitUsage
	}
	log := newLogger(stderr, cfg.Agent.LogLevel)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	reg := prometheus.NewRegistry()
	reg.MustRegister(buildInfo())
	sinkMetrics, err := sink.NewMetrics(reg)
	if err != nil {
		log.Error("metrics", "err", err)
		return exitFail
	}
	kmsgOverruns, err := kmsg.NewOverruns(reg)
	if err != nil {
		log.Error("metrics", "err", err)
		return exitFail
	}
	met := processMetrics{sinks: sinkMetrics, kmsgOverruns: kmsgOverruns}
	var a *agent.Agent
	for {
		runCtx, cancel := context.WithCancel(ctx)
		// Only a restart reads the kernel's recent records again (see
		// agent.Resuming): the correlator's lookback before where it
		// stopped. After a reload the correlator kept has observed them.
		var replay time.Duration
		if a == nil && agent.Resuming(cfg.Agent.StateDir) {
			dc := correlate.DefaultConfig()
			replay = dc.Lookback + dc.Settle
		}
		opt, closeAll := agentOptions(runCtx, cfg, stdout, log, met, replay)
		opt.Registry = reg
		opt.QuietFindingLog = findingsInJournal(cfg, stdout, stderr)
		if a == nil {
			a, err = agent.New(opt)
		} else {
			err = a.Reconfigure(opt)
		}
		if err != nil {
			cancel()
			closeAll()
			log.Error("cannot start", "err", err)
			return exitFail
		}
		reloaded := make(chan bool, 1)
		go func() {
			select {
			case <-hup:
				reloaded <- true
				cancel()
			case <-runCtx.Done():
				reloaded <- false
			}
		}()
		err = a.Run(runCtx)
		cancel()
		closeAll()
		reload := <-reloaded
		if ctx.Err() != nil {
			daemon.SdNotify(false, daemon.SdNotifyStopping)
			return exitOK
		}
		if err != nil {
			log.Error("agent stopped", "err", err)
			return exitFail
		}
		if !reload {
			return exitOK
		}
		daemon.SdNotify(false, daemon.SdNotifyReloading)
		next, err := config.Load(*cfgPath)
		if err != nil {
			log.Error("reload: invalid configuration, keeping the running one", "err", err)
			continue
		}
		log.Info("configuration reloaded", "file", next.File())
		cfg = next
	}
}

// newLogger logs to stderr: text, without time stamps when journald (which
// stamps every line itself) is the reader.
func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	o := &slog.HandlerOptions{Level: lv}
	if connectedToJournal(w) {
		o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// processMetrics are the metrics made once per process, kept across
// reloads, that agentOptions hands to what it builds.
type processMetrics struct {
	sinks        *sink.Metrics
	kmsgOverruns prometheus.Counter
}

// agentOptions turns the configuration and what discovery finds into the
// agent's sources, checks and emitters. closeAll releases what it opened.
//
// replayKernel > 0 makes the kernel source read that much of its past
// first (kmsg.StartRecent, journal.Options.Replay).
func agentOptions(ctx context.Context, cfg *config.Config, stdout io.Writer, log *slog.Logger, met processMetrics, replayKernel time.Duration) (agent.Options, func()) {
	host := discover.Discover(ctx, discover.FromConfig(cfg, discover.OS()))
	for _, p := range host.Problems {
		log.Warn("discovery", "problem", p)
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	opt := agent.Options{
		Host:          cfg.Agent.Hostname,
		StateDir:      cfg.Agent.StateDir,
		CheckInterval: cfg.Checks.Interval.D(),
		MetricsListen: cfg.Metrics.Listen,
		Log:           log,
		Ready: func() {
			daemon.SdNotify(false, daemon.SdNotifyReady)
		},
	}
	if g := cfg.Correlate.Gap.D(); g > 0 {
		c := correlate.DefaultConfig()
		c.Settle = time.Second // live lines arrive within a poll interval
		c.Gap = g
		opt.Correlate = c
	}

	local := parsers.Options{Location: time.Local, Ref: time.Now()}
	var kernelTried []checks.KernelAttempt
	for _, w := range host.Watch() {
		switch w.Kind {
		case "kmsg":
			// After a restart (a crash mid-incident included) the OOM kill
			// of a minute ago still explains the errors that are re-read.
			ko := kmsg.Options{Path: w.Path, Log: log, Overruns: met.kmsgOverruns}
			if replayKernel > 0 {
				ko.Start, ko.Recent = kmsg.StartRecent, replayKernel
			}
			r, err := kmsg.Open(ko)
			kernelTried = append(kernelTried, checks.KernelAttempt{Source: "kmsg", Path: w.Path, Err: err})
			if err != nil {
				log.Warn("kernel log: /dev/kmsg not readable, falling back", "err", err)
				opt.Kernel = kernelFallback(log, local, &opt, replayKernel, &kernelTried)
				continue
			}
			opt.Kernel = &agent.Pump[kmsg.Record]{Label: "kmsg", Reader: r, Convert: r.Input(kernel.New(parsers.Options{}))}
			opt.KernelReplayed = r.Replayed()
		case "journal":
			f, err := journal.New(journalOptions(cfg.Agent.StateDir, log, replayKernel))
			if err == nil {
				err = checks.JournalReadable()
			}
			kernelTried = append(kernelTried, checks.KernelAttempt{Source: "journal", Path: w.Path, Err: err})
			if f != nil {
				opt.Kernel = journalInput(f)
			} else {
				log.Warn("kernel log: journalctl unavailable", "err", err)
			}
		case "file":
			paths := []string{w.Path}
			if strings.ContainsAny(w.Path, "*?[") {
				paths, _ = filepath.Glob(w.Path)
			}
			for _, p := range paths {
				fs := formatsFor(w)
				opt.Watches = append(opt.Watches, agent.Watch{Path: p, Type: w.Type, Format: fs[0].Name, Formats: fs, Options: local, Site: w.Site})
				if w.Type == parsers.TypeKernel {
					kernelTried = append(kernelTried, checks.KernelAttempt{Source: "file", Path: p, Err: readable(p)})
				}
			}
		}
	}
	if host.PHPFPM != nil {
		// Which pool an upstream address is, for the incidents' scope.
		opt.Correlate.Pools = map[string]string{}
		for _, pl := range host.PHPFPM.Pools {
			for _, k := range correlate.PoolListenKeys(pl.Listen) {
				opt.Correlate.Pools[k] = pl.Name
			}
		}
	}
	if host.Kernel.Source == "none" { // discovery found none readable
		kernelTried = append(kernelTried, checks.KernelAttempt{Source: "none", Path: "the kernel log", Err: errors.New(host.Kernel.Reason)})
	}
	if targets := oomTargets(); len(targets) > 0 {
		opt.Extra = append(opt.Extra, &agent.Pump[oomwatch.Event]{Label: "cgroup-oom", Reader: oomwatch.New(targets, time.Second), Convert: oomwatch.Input})
	}

	// The ports to check: [checks] ports when set, else those the web
	// servers' configurations listen on.
	lc := &checks.Listeners{Configured: webPorts(host)}
	for _, p := range cfg.Checks.Ports {
		lc.Ports = append(lc.Ports, uint16(p))
	}
	if len(lc.Ports) > 0 {
		lc.Override = "[checks] ports"
	} else if lc.Ports = checks.PortList(lc.Configured); len(lc.Ports) == 0 {
		log.Warn("no web server configuration listens on a port Cloudflare connects to: listener checks are off; set [checks] ports to check some")
	}
	ports := lc.Ports
	opt.Checks = append(opt.Checks, lc)
	if ups := upstreamTargets(host, cfg); len(ups) > 0 {
		opt.Checks = append(opt.Checks, &checks.Upstreams{Targets: ups})
	}
	// Health: the logs and the kernel source the agent cannot read.
	files := &checks.Files{}
	for _, w := range opt.Watches {
		if w.Type != parsers.TypeKernel {
			files.Files = append(files.Files, checks.WatchedFile{Path: w.Path, PHPFPM: w.Type == parsers.TypePHPFPM})
		}
	}
	opt.Checks = append(opt.Checks, files)
	if len(kernelTried) > 0 {
		opt.Checks = append(opt.Checks, &checks.Static{Label: "kernel", Results: []checks.Check{checks.KernelHealth(kernelTried)}})
	}
	ranges, err := firewall.Load(cfg.Agent.StateDir)
	if err != nil && !errors.Is(err, firewall.ErrUsingEmbedded) {
		log.Warn("cloudflare ranges", "err", err)
	}
	opt.CloudflareRanges = ranges.All()
	if every := cfg.Firewall.AuditInterval.D(); every > 0 {
		lister := &firewall.SystemLister{LockTimeout: 5}
		ac := &audit.Periodic{Every: every, Log: log, Opts: audit.Options{
			Ports: ports, PortsFrom: lc.Override, Ranges: ranges, Lister: lister, NginxConf: cfg.Sources.NginxConf, ApacheConf: cfg.Sources.ApacheConf,
		}}
		if cfg.Firewall.Manage {
			ac.Manage = &audit.ApplyOptions{Ranges: ranges, Ports: ports, IPTables: lister.IPTables}
		}
		opt.Checks = append(opt.Checks, ac)
	}

	hostname := cfg.Agent.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	ems, c := emitters(ctx, cfg, hostname, met.sinks, log)
	opt.Emitters = ems
	closers = append(closers, c)
	return opt, closeAll
}

// journalOptions follows the kernel's journal from the saved cursor, or
// replay before it (see agentOptions).
func journalOptions(stateDir string, log *slog.Logger, replay time.Duration) journal.Options {
	return journal.Options{CursorFile: filepath.Join(stateDir, "journal.cursor"), Log: log, Replay: replay}
}

// journalInput reads the kernel's messages from the journal.
func journalInput(f *journal.Follower) agent.InputSource {
	return &agent.Pump[journal.Entry]{Label: "journal", Reader: f, Convert: journal.Input(kernel.New(parsers.Options{}))}
}

// kernelFallback picks the kernel source when /dev/kmsg is not readable:
// journalctl when present, else the syslog file.
func kernelFallback(log *slog.Logger, o parsers.Options, opt *agent.Options, replay time.Duration, tried *[]checks.KernelAttempt) agent.InputSource {
	if p, err := exec.LookPath("journalctl"); err == nil {
		if f, err := journal.New(journalOptions(opt.StateDir, log, replay)); err == nil {
			*tried = append(*tried, checks.KernelAttempt{Source: "journal", Path: p, Err: checks.JournalReadable()})
			return journalInput(f)
		}
	}
	for _, p := range []string{"/var/log/kern.log", "/var/log/messages"} {
		err := readable(p)
		if err == nil {
			opt.Watches = append(opt.Watches, agent.Watch{Path: p, Type: parsers.TypeKernel, Parse: kernel.New(o)})
			*tried = append(*tried, checks.KernelAttempt{Source: "file", Path: p})
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			*tried = append(*tried, checks.KernelAttempt{Source: "file", Path: p, Err: err})
		}
	}
	log.Warn("no kernel log readable: OOM kills are seen only through cgroup counters")
	return nil
}

// formatsFor lists the formats a watched file may be in: the one its
// server's config names first, then the built-in ones of its type. The
// daemon picks among them from each file's first lines (agent.Watch), as
// analyze does.
func formatsFor(w discover.Watch) []detect.Format {
	var fs []detect.Format
	switch w.Type {
	case parsers.TypeNginxAccess:
		if w.Compiled != nil {
			fs = append(fs, detect.NginxAccess(w.Format, w.Compiled))
		}
	case parsers.TypeApacheAccess:
		if w.Spec != "" {
			if f, err := apache.CompileLogFormat(w.Format, w.Spec); err == nil {
				fs = append(fs, detect.ApacheAccess(w.Format, f))
			}
		}
	}
	return append(fs, detect.Builtin(w.Type)...)
}

// oomTargets are the memory cgroups of the web and php-fpm services that
// exist on this host.
func oomTargets() []oomwatch.Target {
	var out []oomwatch.Target
	units := []string{"nginx.service", "apache2.service", "httpd.service", "php-fpm.service"}
	for _, pat := range []string{"/sys/fs/cgroup/system.slice/php*-fpm.service", "/sys/fs/cgroup/memory/system.slice/php*-fpm.service"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			units = append(units, filepath.Base(p))
		}
	}
	seen := map[string]bool{}
	for _, u := range units {
		t := oomwatch.ForUnit(oomwatch.DefaultRoot, u)
		if seen[t.File] {
			continue
		}
		seen[t.File] = true
		if _, err := os.Stat(t.File); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// readable opens and closes path.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// webPorts are the ports the discovered nginx and apache configurations
// listen on.
func webPorts(h *discover.Host) []checks.WebPort {
	var ngx *nginxconf.Config
	if h.Nginx != nil {
		ngx = h.Nginx.Config
	}
	var apc *apacheconf.Config
	unit := "apache2"
	if h.Apache != nil {
		apc = h.Apache.Config
		if strings.Contains(h.Apache.Conf, "/httpd/") {
			unit = "httpd"
		}
	}
	return checks.WebPorts(ngx, apc, unit)
}

// upstreamTargets are what the web servers proxy to, plus [checks]
// upstreams.
func upstreamTargets(h *discover.Host, cfg *config.Config) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != "" && !seen[t] && !strings.Contains(t, "$") {
			seen[t] = true
			out = append(out, t)
		}
	}
	if h.Nginx != nil {
		for _, u := range h.Nginx.Upstreams {
			add(u.Target)
		}
	}
	if h.Apache != nil {
		for _, u := range h.Apache.Upstreams {
			add(u.Target)
		}
	}
	for _, u := range cfg.Checks.Upstreams {
		add(u)
	}
	return out
}

// buildInfo is origin_agent_build_info{version,revision,goversion} 1: the
// usual way to see in Prometheus which build each host runs.
func buildInfo() prometheus.Collector {
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "origin_agent_build_info",
		Help:        "A metric with a constant 1 labelled by the version, VCS revision and Go version the agent was built from.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
