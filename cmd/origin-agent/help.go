package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

// wantsHelp reports whether a command's arguments ask for its help: -h,
// -help or --help before a "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// helpTopics are the topics of `origin-agent help TOPIC` besides the
// commands, with what they print.
func helpTopics() []struct{ name, summary string } {
	return []struct{ name, summary string }{
		{"causes", "the causes findings and analyses name, with their severity"},
		{"config", "the configuration file: where it is, its keys and their defaults"},
	}
}

// runHelp is `origin-agent help [TOPIC]`: the usage, a command's help or a
// topic, on stdout.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "Usage: origin-agent help [COMMAND|TOPIC]\n")
		return exitUsage
	}
	topic := args[0]
	for _, c := range commands() {
		if c.name == topic && !c.hidden {
			return c.run(ctx, []string{"--help"}, stdout, stdout)
		}
	}
	switch topic {
	case "causes":
		return helpCauses(stdout)
	case "config":
		return helpConfig(stdout)
	}
	fmt.Fprintf(stderr, "origin-agent help: no command or topic %q. Commands:", topic)
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(stderr, " %s", c.name)
		}
	}
	fmt.Fprintf(stderr, "; topics:")
	for _, t := range helpTopics() {
		fmt.Fprintf(stderr, " %s", t.name)
	}
	fmt.Fprintln(stderr)
	return exitUsage
}

// knownCauses lists the causes of the taxonomy in the order people meet
// them: incident causes from the logs, then the live checks'.
func knownCauses() []correlate.Cause {
	return []correlate.Cause{
		correlate.CausePoolExhausted, correlate.CauseUpstreamDown, correlate.CauseOOMKill,
		correlate.CauseRequestTerminated, correlate.CauseUpstreamCrash, correlate.CausePermissionDenied,
		correlate.CauseHeaderTooBig, correlate.CauseUpstreamTimeout, correlate.CauseInvalidResponse,
		correlate.CauseNoLiveUpstreams, correlate.CauseWorkerConnections, correlate.CauseApacheMaxWorkers,
		correlate.CauseRateLimited, correlate.CauseApplicationError, correlate.CauseCloudflareTimeout,
		correlate.CauseWebServerCrash, correlate.CauseUnknown,
		correlate.CauseListenerDown, correlate.CauseFirewallBlocks, correlate.CauseTLSInvalid,
		correlate.CauseCloudflareStopped, correlate.CausePoolSaturated, checks.CauseCannotObserve,
	}
}

func helpCauses(w io.Writer) int {
	fmt.Fprintf(w, "Causes origin-agent names (the \"cause\" of a finding or an analysed incident):\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CAUSE\tSEVERITY\tMEANING\n")
	live := []correlate.Cause{correlate.CauseListenerDown, correlate.CauseFirewallBlocks, correlate.CauseTLSInvalid, correlate.CauseCloudflareStopped}
	for _, c := range knownCauses() {
		what := c.Describe()
		if slices.Contains(live, c) {
			what += " (live check: run, audit)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c, finding.SeverityOf(c), what)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEach finding and incident carries the evidence lines behind its cause and a fix.\n"+
		"Severity: critical when the origin fails for everyone, warning when partly or slowly,\n"+
		"info when the errors are the application's or a limit's own answer.\n")
	return exitOK
}

func helpConfig(w io.Writer) int {
	fmt.Fprintf(w, "The daemon (origin-agent run) reads %s, or the file given with\n"+
		"--config FILE. Every key is optional: without a file it discovers the web servers, their\n"+
		"logs and php-fpm pools itself. 'origin-agent check-config --config FILE' validates a file,\n"+
		"naming every mistake with its line and key, and prints the configuration in force.\n"+
		"The packaged file documents every key with a comment. SIGHUP (systemctl reload\n"+
		"origin-agent) reloads it.\n\nThe keys and their defaults:\n\n", config.DefaultPath)
	eff := strings.TrimPrefix(config.Default().Effective(), "# effective configuration: built-in defaults\n")
	io.WriteString(w, strings.TrimLeft(eff, "\n"))
	return exitOK
}
