package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/report"
	"github.com/origin-agent/origin-agent/parsers"
)

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		format     = fs.String("format", "text", "output format: text, json or html")
		output     = fs.String("o", "", "write the report to `FILE` (atomically) instead of standard output")
		nginxConf  = fs.String("nginx-conf", "", "nginx config `FILE` to learn log_formats and access_log paths from")
		apacheConf = fs.String("apache-conf", "", "apache config `FILE` to learn LogFormats and CustomLog paths from")
		gap        = fs.Duration("gap", 60*time.Second, "quiet time that ends an incident")
		since      = fs.String("since", "", "ignore lines before this `TIME` (RFC 3339, or 2006-01-02[ 15:04[:05]] in UTC)")
		until      = fs.String("until", "", "ignore lines after this `TIME`")
		tz         = fs.String("tz", "", "time `ZONE` of logs whose stamps carry none (default: the access log's offset, else local time)")
		ship       = fs.Bool("ship", false, "also send each incident, as a closed finding, through the [[sinks]] of the config")
		cfgPath    = fs.String("config", "", "config `FILE` whose [[sinks]] --ship uses (default "+config.DefaultPath+")")
		journal    = fs.Bool("journal", false, "also read the kernel's messages (OOM kills, segfaults) of every boot from the systemd journal, for hosts without kern.log")
		journalDir = fs.String("journal-dir", "", "like --journal, from the journal files in `DIR` (e.g. a copy of another host's /var/log/journal)")
		shipWait   = fs.Duration("ship-timeout", 30*time.Second, "how long --ship waits for network sinks to confirm; the rest stays spooled for the daemon (unless it runs now and holds the spool: then ship again)")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent analyze [flags] [TYPE=]PATH...\n\n"+
			"PATH is a log file (rotated and .gz too) or a directory. TYPE is one of\n  %s\n"+
			"and is detected from the content when omitted.\n\nFlags:\n", typeNames())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	opts := analyze.Options{Args: fs.Args(), NginxConf: *nginxConf, ApacheConf: *apacheConf, Gap: *gap,
		Log: func(f string, a ...any) { fmt.Fprintf(stderr, "origin-agent analyze: "+f+"\n", a...) }}
	if *format != "text" && *format != "json" && *format != "html" {
		fmt.Fprintf(stderr, "origin-agent analyze: --format must be text, json or html, not %q\n", *format)
		return exitUsage
	}
	if *gap <= 0 {
		fmt.Fprintf(stderr, "origin-agent analyze: --gap must be positive\n")
		return exitUsage
	}
	var err error
	if opts.Since, err = parseTime(*since); err != nil {
		fmt.Fprintf(stderr, "origin-agent analyze: --since: %v\n", err)
		return exitUsage
	}
	if opts.Until, err = parseTime(*until); err != nil {
		fmt.Fprintf(stderr, "origin-agent analyze: --until: %v\n", err)
		return exitUsage
	}
	if *tz != "" {
		if opts.Location, err = time.LoadLocation(*tz); err != nil {
			fmt.Fprintf(stderr, "origin-agent analyze: --tz: %v\n", err)
			return exitUsage
		}
	}
	if len(opts.Args) == 0 {
		fs.Usage()
		return exitUsage
	}
	var shipCfg *config.Config
	if code := shipUsage(fs, *ship, *cfgPath, *shipWait, &shipCfg, stderr); code != exitOK {
		return code
	}
	if *journal || *journalDir != "" {
		path, label, err := exportJournalKernel(ctx, *journalDir, opts.Since, opts.Until)
		if err != nil {
			fmt.Fprintf(stderr, "origin-agent analyze: %v\n", err)
			return exitUsage
		}
		defer os.RemoveAll(filepath.Dir(path))
		if st, err := os.Stat(path); err == nil && st.Size() == 0 {
			fmt.Fprintf(stderr, "origin-agent analyze: %s: no kernel messages (reading the system journal takes root or the systemd-journal or adm group)\n", label)
		}
		opts.Args = append(opts.Args, string(parsers.TypeKernel)+"="+path)
		opts.Labels = map[string]string{path: label}
	}
	res, err := analyze.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent analyze: %v\n", strings.TrimPrefix(err.Error(), analyze.ErrUsage.Error()+": "))
		return exitUsage
	}
	render := report.AnalysisText
	switch *format {
	case "json":
		render = report.AnalysisJSON
	case "html":
		render = report.AnalysisHTML
	}
	if *output != "" {
		err = writeFileAtomic(*output, func(w io.Writer) error { return render(w, res) })
	} else {
		err = render(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent analyze: writing the report: %v\n", err)
		return exitUsage
	}
	if !*journal && *journalDir == "" && journalHint(res) {
		fmt.Fprintf(stderr, "origin-agent analyze: no kernel log was read; where there is no kern.log, --journal reads the kernel's messages (OOM kills, segfaults) from the systemd journal\n")
	}
	if *ship {
		return shipFindings(ctx, shipCfg, res, *shipWait, stderr)
	}
	return exitOK
}

// journalHint says whether to suggest --journal: incidents were found, no
// kernel log was among the files, and this host has journalctl.
func journalHint(res *analyze.Result) bool {
	incidents := false
	for _, c := range res.Cases {
		incidents = incidents || len(c.Incidents) > 0
		for _, f := range c.Files {
			if f.Type == parsers.TypeKernel {
				return false
			}
		}
	}
	if !incidents {
		return false
	}
	_, err := exec.LookPath("journalctl")
	return err == nil
}

func typeNames() string {
	var s []string
	for _, t := range parsers.Types {
		s = append(s, string(t))
	}
	return strings.Join(s, " ")
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (use RFC 3339, e.g. 2026-11-20T10:00:00Z)", s)
}

// writeFileAtomic writes what write produces to path atomically
// (renameio: a temporary file in the same directory, fsync, rename), so
// that readers see either the old file or the whole new one, never a
// half-written report. Reports carry client addresses and URLs: a new one
// is the user's alone (0600); one replaced keeps the mode it was given.
// Unlike the state directory's files (stateown.WriteFile) it keeps the
// owner that wrote it: root writing into a user's directory is that
// user's choice to make.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	pf, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(mode))
	if err != nil {
		return fmt.Errorf("create a temporary file for %s: %w", path, err)
	}
	defer pf.Cleanup()
	bw := bufio.NewWriterSize(pf, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", pf.Name(), err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return err // *os.PathError or *os.LinkError: names the file
	}
	return nil
}
