package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/origin-agent/origin-agent/agent/access"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/discover"
)

// runDiscover prints what the host runs, where it logs, and what `run`
// will watch.
func runDiscover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		format = fs.String("format", "text", "output format: text or json")
		path   = fs.String("config", "", "configuration `FILE` whose [sources] apply (default "+config.DefaultPath+", optional)")
		asUser = fs.String("user", access.ServiceUser, "say whether `USER` can read each source (default: the service, with the unit's groups)")
		short  = fs.Bool("short", false, "print only whether the service can read each source and probe, and the fixes")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent discover [--format text|json] [--config FILE]\n\n"+
			"Finds nginx, Apache, php-fpm and the kernel log source, lists the logs\n"+
			"`origin-agent run` will read, and says for each source and probe whether\n"+
			"the service user can use it (computed for that user, also when run as\n"+
			"root: modes, owners, ACLs, every directory's x bit) and the\n"+
			"least-privilege grant that fixes it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "origin-agent discover: --format must be text or json, not %q\n", *format)
		return exitUsage
	}
	c, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent discover: invalid configuration (see origin-agent check-config):\n%v\n", err)
		return exitUsage
	}
	h := discover.Discover(ctx, discover.FromConfig(c, discover.OS()))
	acc := serviceAccess(h, *asUser)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*discover.Host
			Watch  []discover.Watch `json:"watch"`
			Access accessReport     `json:"access"`
		}{h, h.Watch(), acc}); err != nil {
			fmt.Fprintf(stderr, "origin-agent discover: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	if *short {
		printAccess(stdout, acc)
		return exitOK
	}
	printHost(stdout, h)
	fmt.Fprintln(stdout)
	printAccess(stdout, acc)
	return exitOK
}

// accessReport is what the service user can use.
type accessReport struct {
	User  string              `json:"user"`
	Error string              `json:"error,omitempty"` // the user does not exist
	Items []discover.Readable `json:"items,omitempty"`
}

func serviceAccess(h *discover.Host, name string) accessReport {
	var (
		u   access.User
		err error
	)
	service := name == access.ServiceUser
	if service {
		u, err = access.Service()
	} else {
		u, err = access.Lookup(name)
	}
	if err != nil {
		return accessReport{User: name, Error: err.Error()}
	}
	return accessReport{User: name, Items: h.Access(u, service)}
}

func printAccess(w io.Writer, r accessReport) {
	if r.Error != "" {
		fmt.Fprintf(w, "readable by %s: cannot tell (%s); pass --user\n", r.User, r.Error)
		return
	}
	fmt.Fprintf(w, "readable by %s:\n", r.User)
	bad := 0
	for _, it := range r.Items {
		label := "source " + it.What
		if it.Kind == "probe" {
			label = "probe " + it.What
		}
		switch {
		case it.OK:
			fmt.Fprintf(w, "  yes  %s %s\n", label, it.Path)
			continue
		case it.Missing && it.Fix == "":
			fmt.Fprintf(w, "  not yet  %s %s (%s)\n", label, it.Path, it.Reason)
			continue
		case !it.Needed:
			fmt.Fprintf(w, "  no (not needed)  %s %s: %s; %s\n", label, it.Path, it.Reason, it.Note)
		default:
			bad++
			fmt.Fprintf(w, "  NO   %s %s: %s\n", label, it.Path, it.Reason)
		}
		if it.Fix != "" {
			fmt.Fprintf(w, "       fix: %s\n", it.Fix)
		}
	}
	if bad > 0 {
		fmt.Fprintf(w, "%d source(s) the service cannot read: it cannot see what they would show\n", bad)
	}
}

func printHost(w io.Writer, h *discover.Host) {
	if n := h.Nginx; n != nil {
		fmt.Fprintf(w, "nginx: %s (read via %s)\n", n.Conf, n.Via)
		for _, s := range n.Servers {
			fmt.Fprintf(w, "  server %s listen %s  (%s)\n", strings.Join(s.Names, " "), strings.Join(s.Listens, " "), s.Where)
		}
		for _, u := range n.Upstreams {
			fmt.Fprintf(w, "  upstream %s  (%s)\n", u.Target, u.Where)
		}
	} else {
		fmt.Fprintln(w, "nginx: not found")
	}
	if a := h.Apache; a != nil {
		fmt.Fprintf(w, "apache: %s (ServerRoot %s)\n", a.Conf, a.ServerRoot)
		for _, s := range a.Servers {
			fmt.Fprintf(w, "  vhost %s %s  (%s)\n", strings.Join(s.Listens, " "), strings.Join(s.Names, " "), s.Where)
		}
		for _, u := range a.Upstreams {
			fmt.Fprintf(w, "  upstream %s  (%s)\n", u.Target, u.Where)
		}
	} else {
		fmt.Fprintln(w, "apache: not found")
	}
	if p := h.PHPFPM; p != nil {
		for _, m := range p.Masters {
			fmt.Fprintf(w, "php-fpm: %s, error_log %s, log_level %s\n", m.Conf, m.ErrorLog, m.LogLevel)
		}
		for _, pl := range p.Pools {
			fmt.Fprintf(w, "  pool %s listen %s pm %s max_children %d request_terminate_timeout %s  (%s)\n",
				pl.Name, pl.Listen, pl.PM, pl.MaxChildren, pl.RequestTerminateTimeout, pl.Where)
			fmt.Fprintf(w, "    %s\n", slowlogAdvice(pl))
		}
	} else {
		fmt.Fprintln(w, "php-fpm: not found")
	}
	fmt.Fprintf(w, "kernel: %s %s (%s)\n", h.Kernel.Source, h.Kernel.Path, h.Kernel.Reason)
	fmt.Fprintln(w, "\nwill watch:")
	for _, x := range h.Watch() {
		f := ""
		if x.Format != "" {
			f = " format=" + x.Format
		}
		fmt.Fprintf(w, "  %-13s %s%s  (%s)\n", x.Type, x.Path, f, x.From)
	}
	if len(h.Problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range h.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// slowlogAdvice says whether php-fpm will name slow scripts, which the
// pool-exhaustion and timeout findings pass on, and how to turn it on.
func slowlogAdvice(pl discover.FPMPool) string {
	if pl.RequestSlowlogTimeout > 0 && pl.Slowlog != "" {
		return fmt.Sprintf("request_slowlog_timeout %s, slowlog %s: findings name the slow script", pl.RequestSlowlogTimeout, pl.Slowlog)
	}
	return "request_slowlog_timeout off: set it (e.g. 5s) with a slowlog path, and findings name the script that held the workers"
}
