package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/firewall"
)

// defaultStateDir holds positions, the spool and the Cloudflare ranges.
const defaultStateDir = "/var/lib/origin-agent"

// envCFURLs overrides where cf-ips update fetches from:
// "V4URL,V6URL[,APIURL]". Tests point it at httptest servers.
const envCFURLs = "ORIGIN_AGENT_CF_URLS"

// cfIPsSubcommands are cf-ips' subcommands (shell completion lists them).
func cfIPsSubcommands() []string { return []string{"update", "show"} }

func runCFIPs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || !slices.Contains(cfIPsSubcommands(), args[0]) {
		fmt.Fprintf(stderr, "Usage: origin-agent cf-ips update|show [--state-dir DIR]\n\n"+
			"update fetches Cloudflare's current IP ranges into DIR/%s and prints what changed;\n"+
			"a bad answer keeps the old list. show prints the list in use.\n", firewall.RangesFile)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	sub := args[0]
	fset := flag.NewFlagSet("cf-ips "+sub, flag.ContinueOnError)
	fset.SetOutput(stderr)
	stateDir := fset.String("state-dir", defaultStateDir, "`DIR` where the list is stored")
	timeout := fset.Duration("timeout", 20*time.Second, "HTTP timeout")
	fset.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent cf-ips %s [--state-dir DIR] [--timeout DURATION]\n\nFlags:\n", sub)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	old, err := firewall.Load(*stateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "origin-agent cf-ips: %v\n", err)
	}
	if sub == "show" {
		fmt.Fprintf(stdout, "# source %s", old.Source)
		if !old.Fetched.IsZero() {
			fmt.Fprintf(stdout, ", fetched %s", old.Fetched.Format(time.RFC3339))
		}
		fmt.Fprintln(stdout)
		for _, p := range old.All() {
			fmt.Fprintln(stdout, p)
		}
		return exitOK
	}
	urls := firewall.DefaultURLs()
	if env := os.Getenv(envCFURLs); env != "" {
		parts := strings.Split(env, ",")
		if len(parts) < 2 {
			fmt.Fprintf(stderr, "origin-agent cf-ips: %s must be V4URL,V6URL[,APIURL]\n", envCFURLs)
			return exitUsage
		}
		urls = firewall.URLs{V4: parts[0], V6: parts[1]}
		if len(parts) > 2 {
			urls.API = parts[2]
		}
	}
	client := &http.Client{Timeout: *timeout}
	fresh, diff, err := firewall.Update(ctx, client, urls, old)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent cf-ips: update failed, keeping the current list (%s, %d ranges): %v\n", old.Source, len(old.All()), err)
		return exitUsage
	}
	if err := os.MkdirAll(*stateDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "origin-agent cf-ips: %v\n", err)
		return exitUsage
	}
	if err := fresh.Save(*stateDir); err != nil {
		fmt.Fprintf(stderr, "origin-agent cf-ips: %v\n", err)
		return exitUsage
	}
	for _, p := range diff.Added {
		fmt.Fprintf(stdout, "+ %s\n", p)
	}
	for _, p := range diff.Removed {
		fmt.Fprintf(stdout, "- %s\n", p)
	}
	fmt.Fprintf(stdout, "%d IPv4 and %d IPv6 ranges from %s saved in %s", len(fresh.V4), len(fresh.V6), fresh.Source, *stateDir)
	if diff.Empty() {
		fmt.Fprintf(stdout, " (unchanged)")
	}
	fmt.Fprintln(stdout)
	return exitOK
}
