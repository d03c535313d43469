package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The man page and the shell completions are generated from the commands()
// list and from what each command prints for -h, so they cannot drift from
// the CLI. The contract every command keeps for this: given -h it prints its
// help (a "Usage: …" line, free text, and flag.PrintDefaults output) to the
// writer it got as stderr (run passes stdout there, see wantsHelp) and
// returns without doing anything else. The context it gets is
// already cancelled, so a command that ignored -h would stop at once.

// helpDoc is one command's -h output taken apart.
type helpDoc struct {
	synopsis string     // the "Usage: " line without that prefix
	text     [][]string // paragraphs of free text, line by line
	flags    []flagDoc
}

// flagDoc is one flag as flag.PrintDefaults prints it.
type flagDoc struct {
	name   string // without dashes
	arg    string // value name ("FILE", "string", "duration"); "" for a boolean
	usage  string
	values []string // the values it takes, where they are few (completion)
}

// commandHelp runs c with -h and returns what it printed on stderr.
func commandHelp(c command) string {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var help bytes.Buffer
	c.run(ctx, []string{"-h"}, &help, &help)
	return help.String()
}

// parseHelp takes apart the help text of a command. Lines it does not
// recognise are kept as free text, so nothing a command prints is lost.
func parseHelp(help string) helpDoc {
	var d helpDoc
	var para []string
	endPara := func() {
		if len(para) > 0 {
			d.text = append(d.text, para)
			para = nil
		}
	}
	inFlag := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "Usage: ") && d.synopsis == "":
			endPara()
			d.synopsis = strings.TrimSpace(strings.TrimPrefix(line, "Usage: "))
			inFlag = false
		case strings.HasPrefix(line, "  -") && len(line) > 3 && line[3] != ' ' && line[3] != '-':
			endPara()
			d.flags = append(d.flags, parseFlagHeader(line[3:]))
			inFlag = true
		case inFlag && strings.HasPrefix(line, "    \t"):
			f := &d.flags[len(d.flags)-1]
			f.usage = strings.TrimSpace(f.usage + " " + strings.TrimPrefix(line, "    \t"))
		case strings.TrimSpace(line) == "":
			endPara()
			inFlag = false
		case line == "Flags:" || line == "Options:":
			endPara()
			inFlag = false
		default:
			inFlag = false
			para = append(para, strings.TrimRight(line, " \t"))
		}
	}
	endPara()
	return d
}

// dashed is the flag as users type it: -o, but --format.
func (f flagDoc) dashed() string {
	if len(f.name) == 1 {
		return "-" + f.name
	}
	return "--" + f.name
}

// parseFlagHeader reads "name arg", "name" or, for one-letter flags,
// "x\tusage" (PrintDefaults puts those on one line).
func parseFlagHeader(s string) flagDoc {
	var f flagDoc
	if head, usage, ok := strings.Cut(s, "\t"); ok {
		s, f.usage = head, strings.TrimSpace(usage)
	}
	f.name, f.arg, _ = strings.Cut(strings.TrimSpace(s), " ")
	return f
}

// manCommand is one command as the man page and completions see it.
type manCommand struct {
	name, summary string
	help          helpDoc
	// subs are its subcommands (cf-ips update|show); subFlags the flags
	// they take, from their own -h.
	subs     []string
	subFlags []flagDoc
}

// flagValues are the values of the flags that take one of a few words,
// per command and flag (completion offers them; a test checks each is in
// the flag's help text).
func flagValues() map[string]map[string][]string {
	return map[string]map[string][]string{
		"analyze":  {"format": {"text", "json", "html"}},
		"audit":    {"format": {"text", "json"}},
		"discover": {"format": {"text", "json"}},
	}
}

// subcommands are the commands that take a subcommand as first argument.
func subcommands() map[string][]string {
	return map[string][]string{"cf-ips": cfIPsSubcommands()}
}

// visibleCommands returns the commands users see, with their help.
func visibleCommands() []manCommand {
	var out []manCommand
	for _, c := range commands() {
		if c.hidden {
			continue
		}
		mc := manCommand{name: c.name, summary: c.summary, help: parseHelp(commandHelp(c))}
		for _, sub := range subcommands()[c.name] {
			mc.subs = append(mc.subs, sub)
			for _, f := range parseHelp(subcommandHelp(c, sub)).flags {
				if !slices.ContainsFunc(mc.subFlags, func(g flagDoc) bool { return g.name == f.name }) {
					mc.subFlags = append(mc.subFlags, f)
				}
			}
		}
		for i, f := range mc.help.flags {
			mc.help.flags[i].values = flagValues()[c.name][f.name]
		}
		out = append(out, mc)
	}
	return out
}

// subcommandHelp is what `origin-agent CMD SUB -h` prints.
func subcommandHelp(c command, sub string) string {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var help bytes.Buffer
	c.run(ctx, []string{sub, "-h"}, &help, &help)
	return help.String()
}

// runMan is the hidden command `origin-agent __man [-date YYYY-MM-DD]`: it
// writes the origin-agent(1) man page in roff to stdout. It never reads the
// clock: without -date the footer has no date, and packaging passes the
// date of the last commit, so that builds reproduce.
func runMan(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("__man", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", "", "`DATE` (YYYY-MM-DD) for the page footer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *date != "" {
		if _, err := time.Parse("2006-01-02", *date); err != nil {
			fmt.Fprintf(stderr, "origin-agent __man: -date must be YYYY-MM-DD, not %q\n", *date)
			return exitUsage
		}
	}
	if err := writeMan(stdout, *date, version, visibleCommands()); err != nil {
		fmt.Fprintf(stderr, "origin-agent __man: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// writeMan renders the page. Only the command sections come from the
// commands; FILES, ENVIRONMENT and EXIT STATUS state the contracts in
// DESIGN.md that no help text carries.
func writeMan(w io.Writer, date, version string, cmds []manCommand) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".\\\" Generated by `origin-agent __man`; do not edit.\n")
	fmt.Fprintf(&b, ".TH ORIGIN-AGENT 1 %s %s \"User Commands\"\n", roffQuote(date), roffQuote("origin-agent "+version))
	b.WriteString(".SH NAME\norigin-agent \\- name the cause of 502/503/504 errors on a web origin behind Cloudflare\n")
	b.WriteString(".SH SYNOPSIS\n.B origin-agent\n.I COMMAND\n.RI [ flags ]\n.RI [ args ]\n")
	b.WriteString(".SH DESCRIPTION\n" +
		"origin-agent reads the nginx, Apache, php\\-fpm and kernel logs of a web origin,\n" +
		"watches its listeners and firewall, and names the root cause of each burst of\n" +
		"502, 503 and 504 errors, with the log lines that show it.\n" +
		".PP\nFlags may be written with one or two dashes:\n.B \\-format\nand\n.B \\-\\-format\nare the same.\n" +
		".PP\n.B origin\\-agent help\n.I COMMAND\nand\n.B origin\\-agent\n.I COMMAND\n.B \\-\\-help\nprint a command's help on standard output;\n" +
		".B origin\\-agent help causes\nlists the causes it names,\n.B origin\\-agent help config\nthe configuration keys and their defaults, and\n" +
		".B origin\\-agent \\-\\-version\nthe version.\n")
	b.WriteString(".SH COMMANDS\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, ".SS %s\n", roffQuote(c.name))
		fmt.Fprintf(&b, "%s\n", roffText(c.summary))
		if c.help.synopsis != "" {
			fmt.Fprintf(&b, ".PP\n.B %s\n", roffText(c.help.synopsis))
		}
		for _, p := range c.help.text {
			b.WriteString(".PP\n")
			writeParagraph(&b, p)
		}
		for _, f := range c.help.flags {
			b.WriteString(".TP\n")
			if f.arg != "" {
				fmt.Fprintf(&b, ".BI %s \" %s\"\n", roffText(f.dashed()), roffText(f.arg))
			} else {
				fmt.Fprintf(&b, ".B %s\n", roffText(f.dashed()))
			}
			fmt.Fprintf(&b, "%s\n", roffText(f.usage))
		}
	}
	b.WriteString(manTail)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeParagraph keeps indented lines (lists of names) on lines of their own.
func writeParagraph(b *strings.Builder, lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			fmt.Fprintf(b, ".RS 4\n%s\n.RE\n", roffText(strings.TrimSpace(l)))
			continue
		}
		fmt.Fprintf(b, "%s\n", roffText(l))
	}
}

const manTail = `.SH FILES
.TP
.I /etc/origin-agent/config.toml
Configuration of
.BR "origin-agent run" ;
every key is optional.
.TP
.I /var/lib/origin-agent
State: log positions, the findings spool and the Cloudflare ranges.
.TP
.I /usr/lib/systemd/system/origin-agent.service
The systemd unit that runs
.B origin-agent run
as the unprivileged user origin\-agent.
.SH EXIT STATUS
.TP
.B 0
It did its job (for analyze: whether or not incidents were found).
.TP
.B 1
It ran and something failed: an audit check, a grant, a finding
.B analyze \-\-ship
did not deliver, or the daemon (it could not start, or stopped on an error).
.TP
.B 2
It could not do its job: bad usage or configuration, unreadable input, a part
of the audit that could not run; the reason is on standard error.
.SH SEE ALSO
.BR systemctl (1),
.BR journalctl (1),
.BR nginx (8)
`

// roffText escapes s for a roff text line: backslashes, dashes (so they
// print as minus signs and copy-paste as "-") and a leading control
// character.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuote makes s one double-quoted macro argument.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `""`) + `"`
}
