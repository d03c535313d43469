// Command spoolsend is a test helper for the sink outage test: it opens a
// spool, delivers it to a syslog address with a Deliverer, and meanwhile
// appends -n findings with ids "<prefix>-<i>" every -every, printing
// "appended <id>" only after Append returned (the finding is durable). The
// test kills it with SIGKILL and starts it again on the same spool.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/agent/sink"
	"github.com/origin-agent/origin-agent/agent/sink/spool"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spoolsend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("spool", "", "spool directory")
	addr := fs.String("address", "", "syslog address, e.g. tcp://127.0.0.1:6514")
	prefix := fs.String("prefix", "f", "finding id prefix")
	n := fs.Int("n", 0, "findings to append")
	every := fs.Duration("every", 50*time.Millisecond, "pause between appends")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // help asked for, as origin-agent's commands
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	sp, err := spool.Open(*dir, 64<<20)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer sp.Close()
	cfg := config.DefaultSink(sink.TypeSyslog)
	cfg.Name, cfg.Address, cfg.Timeout = "syslog", *addr, config.Duration(2*time.Second)
	s, err := sink.New(cfg, sink.Deps{Log: log, Hostname: "web1"})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer s.Close()
	o := sink.DeliverOptionsFrom(cfg, sink.Deps{Log: log})
	o.BatchWait, o.BackoffMin, o.BackoffMax = 20*time.Millisecond, 100*time.Millisecond, time.Second
	d := sink.NewDeliverer("syslog", sp, s, o)
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()

	for i := range *n {
		f := finding.Finding{
			Schema: finding.Schema, ID: fmt.Sprintf("%s-%d", *prefix, i), IncidentID: *prefix, Kind: finding.KindIncident,
			State: finding.StateOpened, Severity: finding.SeverityCritical, Host: "web1",
			Incident: correlate.Incident{ID: *prefix, Cause: correlate.CauseUpstreamDown, Start: time.Now().UTC(), End: time.Now().UTC(),
				Summary: "php-fpm is not running; nginx got connection refused"},
		}
		if err := sp.Append(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "appended %s\n", f.ID)
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(*every):
		}
	}
	fmt.Fprintln(stdout, "produced")
	<-done
	return 0
}
