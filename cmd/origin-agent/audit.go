package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/origin-agent/origin-agent/agent/audit"
	"github.com/origin-agent/origin-agent/agent/report"
	"github.com/origin-agent/origin-agent/firewall"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("audit", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var (
		format     = fset.String("format", "text", "output format: text or json")
		portsFlag  = fset.String("ports", "", "comma-separated `PORTS` Cloudflare connects to (default: the ports the nginx/apache configuration listens on)")
		fix        = fset.Bool("fix", false, "print the commands that fix what is not passing")
		apply      = fset.Bool("apply", false, "create/update the ORIGIN-AGENT-CF chain that accepts Cloudflare on PORTS (iptables and ip6tables)")
		restrict   = fset.Bool("restrict", false, "with --apply: also drop new connections from other sources to PORTS (asks first; open connections stay; refuses when SSH uses one of PORTS)")
		yes        = fset.Bool("yes", false, "with --restrict: do not ask")
		revert     = fset.Bool("revert", false, "remove the ORIGIN-AGENT-CF chain and its jump")
		stateDir   = fset.String("state-dir", defaultStateDir, "`DIR` holding the Cloudflare ranges saved by cf-ips update")
		nginxConf  = fset.String("nginx-conf", "/etc/nginx/nginx.conf", "nginx main config `FILE`")
		apacheConf = fset.String("apache-conf", "/etc/apache2/apache2.conf", "apache main config `FILE`")
	)
	fset.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent audit [flags]\n\n"+
			"Checks what makes Cloudflare fail before visitors see it: listeners, the firewall\n"+
			"against Cloudflare's ranges, bans of Cloudflare addresses (fail2ban, CrowdSec), the TLS\n"+
			"certificate, nginx real_ip, proxy timeouts (vs Cloudflare's 100 s), access log formats and\n"+
			"php-fpm max_children. Exit 0: nothing failed, 1: a check failed, 2: could not run.\n\nFlags:\n")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(f string, a ...any) int {
		fmt.Fprintf(stderr, "origin-agent audit: "+f+"\n", a...)
		return exitUsage
	}
	if fset.NArg() > 0 {
		return fail("unexpected argument %q", fset.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return fail("--format must be text or json, not %q", *format)
	}
	var ports []uint16
	if *portsFlag != "" {
		p, err := parsePorts(*portsFlag)
		if err != nil {
			return fail("--ports: %v", err)
		}
		ports = p
	}
	if *restrict && !*apply {
		return fail("--restrict needs --apply")
	}
	if *apply && *revert {
		return fail("--apply and --revert exclude each other")
	}
	ranges, err := firewall.Load(*stateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "origin-agent audit: %v\n", err)
	}

	root := os.Geteuid() == 0
	lister := &firewall.SystemLister{LockTimeout: 5}
	opts := audit.Options{Ports: ports, PortsFrom: "--ports", Ranges: ranges, NginxConf: *nginxConf, ApacheConf: *apacheConf}
	if len(ports) == 0 {
		ports = audit.DerivedPorts(opts)
	}
	if root {
		opts.Lister = lister
	} else {
		opts.NoFirewall = "not root: reading iptables needs root (CAP_NET_ADMIN); run with sudo"
	}

	// Progress of --apply/--revert goes to stderr with --format json, so
	// stdout stays one JSON document.
	progress := stdout
	if *format == "json" {
		progress = stderr
	}
	if *apply || *revert {
		if !root {
			return fail("--apply and --revert need root")
		}
		ao := audit.ApplyOptions{Ranges: ranges, Ports: ports, Restrict: *restrict, Yes: *yes, In: os.Stdin, Out: progress,
			SSHConnection: os.Getenv("SSH_CONNECTION"), IPTables: lister.IPTables}
		var err error
		if *apply {
			err = audit.Apply(ao)
		} else {
			err = audit.Revert(ao)
		}
		if err != nil {
			return fail("%v", err)
		}
		if *apply {
			if fw, err := firewall.Read(ctx, lister); err == nil {
				for _, n := range audit.SurvivalNote(fw.Frontends) {
					fmt.Fprintf(progress, "note: %s\n", n)
				}
			}
		}
	}

	rep := audit.Run(ctx, opts)
	if *format == "json" {
		err = report.AuditJSON(stdout, rep.Checks, rep.Errors)
	} else {
		err = report.AuditText(stdout, rep.Checks, rep.Errors, *fix)
	}
	if err != nil {
		return fail("%v", err)
	}
	return auditExit(rep.Outcome())
}

// auditExit is audit's exit status: 0 when no check failed, 1 when one
// did, 2 when none failed but a part of the audit could not run (as for
// any command that could not do its job).
func auditExit(o audit.Outcome) int {
	switch o {
	case audit.Failed:
		return exitFail
	case audit.Incomplete:
		return exitUsage
	}
	return exitOK
}

// parsePorts reads "80,443" into distinct ports in the given order.
func parsePorts(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a port", f)
		}
		if !slices.Contains(out, uint16(n)) {
			out = append(out, uint16(n))
		}
	}
	if len(out) > 15 {
		return nil, fmt.Errorf("at most 15 ports (iptables multiport), got %d", len(out))
	}
	return out, nil
}
