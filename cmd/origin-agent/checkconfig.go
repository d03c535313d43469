package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/origin-agent/origin-agent/agent/config"
)

// runCheckConfig validates the configuration and prints the effective one:
// exit 0 when valid, 2 with every error on stderr when not.
func runCheckConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `FILE` (default "+config.DefaultPath+", optional)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent check-config [--config FILE]\n\n"+
			"Validates the configuration, reports every mistake with its file:line and key,\n"+
			"and prints the effective configuration (defaults included).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "origin-agent check-config: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	c, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent check-config: invalid configuration:\n%v\n", err)
		return exitUsage
	}
	fmt.Fprint(stdout, c.Effective())
	return exitOK
}
