// Command origin-agent finds what on a web origin behind Cloudflare causes
// its 502/503/504s. main only wires: every subcommand is a function of its
// arguments and output streams, so tests run it in-process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses shared by the subcommands, the only ones they return
// (README.md, "Exit codes"; the man page's EXIT STATUS).
const (
	exitOK = 0
	// exitFail: it ran, and something it checked or did failed: an audit
	// check, a grant-log-access grant, the delivery of an analyze --ship
	// finding, the daemon (run could not start, or stopped on an error).
	exitFail = 1
	// exitUsage: it could not do its job: bad usage or configuration,
	// unreadable input, a part of the audit that could not run.
	exitUsage = 2
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	hidden        bool // left out of usage, the man page and completions (build helpers)
}

func commands() []command {
	return []command{
		{"run", "the daemon: tail logs, correlate, check, emit findings", runRun, false},
		{"analyze", "diagnose 502/503/504 incidents in log files after the fact", runAnalyze, false},
		{"audit", "check listeners, firewall, TLS and config against Cloudflare; --fix, --apply", runAudit, false},
		{"cf-ips", "update or show the Cloudflare IP ranges", runCFIPs, false},
		{"check-config", "validate the configuration and print the effective one", runCheckConfig, false},
		{"discover", "show the servers and logs found on this host", runDiscover, false},
		{"grant-log-access", "let the service user read php-fpm's root-only log (ACL; root)", runGrantLogAccess, false},
		{"version", "print the version", runVersion, false},
		{"__man", "write the origin-agent(1) man page (roff) to stdout", runMan, true},
		{"__completion", "write the bash or zsh completion script to stdout", runCompletion, true},
	}
}

// run dispatches to a command. Help asked for (-h, --help, `help TOPIC`)
// goes to stdout with exit 0, so that `origin-agent audit --help | less`
// works; help printed because of a usage mistake goes to stderr with exit 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version", "-V":
		return runVersion(ctx, nil, stdout, stderr)
	case "help":
		return runHelp(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if wantsHelp(args[1:]) {
				// Every command prints its help on the stream it is given
				// as stderr (see manpage.go): here that is stdout.
				return c.run(ctx, args[1:], stdout, stdout)
			}
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "origin-agent: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: origin-agent COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		if c.hidden {
			continue
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'origin-agent help COMMAND' (or 'origin-agent COMMAND --help') for a command's flags,\n"+
		"'origin-agent help causes' for the causes it names, 'origin-agent help config' for the\n"+
		"configuration file, 'origin-agent --version' for the version.\n")
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "origin-agent %s\n", version)
	return exitOK
}
