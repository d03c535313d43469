package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/access"
	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/discover"
	"github.com/origin-agent/origin-agent/parsers"
)

// logAccessUnit is the path unit that re-runs the grant whenever php-fpm
// recreates its log; health findings name it in their fix.
const (
	logAccessUnit   = "origin-agent-logaccess.path"
	logAccessDropIn = "origin-agent-logaccess.path.d"
	// staticLogPath is the PathChanged= the unit file carries itself (RHEL's
	// default), so that the generator's drop-in need not repeat it.
	staticLogPath = "/var/log/php-fpm/error.log"
)

// runGrantLogAccess gives the service user read access to php-fpm's error
// logs, which php-fpm creates root:root 0600 and recreates so at every
// reopen after logrotate. It adds one ACL entry, user:origin-agent:r--, on
// each log (and --x on a directory the user cannot enter, RHEL's
// /var/log/php-fpm), nothing else. Run as root by the postinst, by
// origin-agent-logaccess.service (each time the path unit sees a log
// recreated) and before the agent starts.
func runGrantLogAccess(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("grant-log-access", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		userName  = fs.String("user", access.ServiceUser, "the `USER` to grant read access to")
		cfgPath   = fs.String("config", "", "configuration `FILE` whose [sources] apply (default "+config.DefaultPath+", optional)")
		wait      = fs.Duration("wait", 0, "wait up to `DURATION` for a log that does not exist yet (php-fpm reopening it right after logrotate)")
		dryRun    = fs.Bool("dry-run", false, "print what would be granted, change nothing")
		quiet     = fs.Bool("quiet", false, "print only what changed and errors")
		generator = fs.String("systemd-generator", "", "write `DIR`/"+logAccessDropIn+"/ with a PathChanged= for each log, as a systemd generator (internal)")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: origin-agent grant-log-access [--user USER] [--config FILE] [--wait DURATION] [--dry-run] [--quiet]\n\n"+
			"Lets the service user read php-fpm's error logs: php-fpm creates them\n"+
			"root:root 0600 and recreates them so after every logrotate. Adds the ACL\n"+
			"entry user:USER:r-- to each log (and --x to a directory on the way USER\n"+
			"cannot enter), and nothing else; changes nothing where USER can read\n"+
			"already. A log that does not exist yet (in a directory that does) is\n"+
			"created root:root 0600 as php-fpm would, which keeps it. Needs root. The unit "+logAccessUnit+" runs it again each time a\n"+
			"log is recreated: systemctl enable --now "+logAccessUnit+"\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	c, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent grant-log-access: invalid configuration (see origin-agent check-config):\n%v\n", err)
		if *generator != "" {
			return exitOK // a generator must never fail the boot
		}
		return exitUsage
	}
	logs := phpFPMLogs(ctx, c)
	if *generator != "" {
		if err := writeLogAccessDropIn(*generator, logs); err != nil {
			fmt.Fprintf(stderr, "origin-agent grant-log-access: %v\n", err)
		}
		return exitOK
	}

	var u access.User
	if *userName == access.ServiceUser {
		u, err = access.Service()
	} else {
		u, err = access.Lookup(*userName)
	}
	if err != nil {
		fmt.Fprintf(stderr, "origin-agent grant-log-access: user %s: %v\n", *userName, err)
		return exitFail
	}
	if os.Geteuid() != 0 && !*dryRun {
		fmt.Fprintln(stderr, "origin-agent grant-log-access: needs root (it sets ACLs on root's files)")
		return exitUsage
	}
	if len(logs) == 0 {
		if !*quiet {
			fmt.Fprintln(stdout, "php-fpm: no error log to grant (php-fpm not found, or it logs to syslog)")
		}
		return exitOK
	}
	code := exitOK
	for _, p := range logs {
		waitFor(ctx, p, *wait)
		if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() {
			if !*quiet {
				fmt.Fprintf(stdout, "%s: not a regular file, left alone\n", p)
			}
			continue
		}
		v := access.Check(p, u, access.Read)
		switch {
		case v.OK:
			if !*quiet {
				fmt.Fprintf(stdout, "%s: %s can read it already\n", p, u.Name)
			}
			continue
		case v.Missing && !*dryRun:
			// Create it as php-fpm would (root:root 0600), so that it has
			// the entry before php-fpm writes a line: php-fpm opens its log
			// with O_APPEND|O_CREAT and keeps a file that exists. This
			// closes the gap where the path unit fires on the rotation,
			// php-fpm reopens late, and systemd does not fire again.
			if err := createLog(p); err != nil {
				if !*quiet {
					fmt.Fprintf(stdout, "%s: does not exist yet (%v)\n", p, err)
				}
				continue
			}
			fmt.Fprintf(stdout, "created %s (root:root 0600, as php-fpm would)\n", p)
			v = access.Check(p, u, access.Read)
			if v.OK {
				continue
			}
		case v.Missing:
			fmt.Fprintf(stdout, "%s: does not exist yet; would create it root:root 0600\n", p)
			continue
		}
		if *dryRun {
			fmt.Fprintf(stdout, "%s: would grant: %s\n", p, v.Fix)
			continue
		}
		changed, err := access.Grant(p, u, access.Read)
		for _, ch := range changed {
			fmt.Fprintf(stdout, "granted %s\n", ch)
		}
		if err != nil {
			fmt.Fprintf(stderr, "origin-agent grant-log-access: %s: %v\n", p, err)
			code = exitFail
		}
	}
	return code
}

// phpFPMLogs are the php-fpm error logs `run` would read: [sources]
// php_fpm (globs expanded) where set, else each php-fpm master's
// error_log (Debian: /var/log/phpX.Y-fpm.log, RHEL: /var/log/php-fpm/
// error.log), skipping syslog.
func phpFPMLogs(ctx context.Context, c *config.Config) []string {
	o := discover.FromConfig(c, discover.OS())
	o.NginxConf, o.ApacheConf, o.Kernel = "off", "off", "off"
	h := discover.Discover(ctx, o)
	seen := map[string]bool{}
	var out []string
	for _, w := range h.Watch() {
		if w.Type != parsers.TypePHPFPM || w.Kind != "file" {
			continue
		}
		paths := []string{w.Path}
		if strings.ContainsAny(w.Path, "*?[") {
			paths, _ = filepath.Glob(w.Path)
		}
		for _, p := range paths {
			// /proc/self/fd/2, /dev/stderr: a container's php-fpm logging
			// to its stderr; nothing to grant there.
			if filepath.IsAbs(p) && !seen[p] && !strings.HasPrefix(p, "/proc/") && !strings.HasPrefix(p, "/dev/") {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// createLog creates a missing log empty, root:root 0600 like php-fpm,
// only where its directory exists (php-fpm installed and configured).
func createLog(p string) error {
	if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
		return errors.New("no directory " + filepath.Dir(p))
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// waitFor waits up to d for p to appear, when its directory exists: run
// by the path unit right after logrotate moved the log away, the grant
// would otherwise look before php-fpm reopened (and recreated) it.
func waitFor(ctx context.Context, p string, d time.Duration) {
	if d <= 0 {
		return
	}
	if _, err := os.Stat(filepath.Dir(p)); err != nil {
		return
	}
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Lstat(p); err == nil || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeLogAccessDropIn writes the generator's drop-in: a PathChanged= for
// each log, so that the path unit watches the paths this host's php-fpm
// really uses (a path unit cannot take a glob for PathChanged=).
func writeLogAccessDropIn(dir string, logs []string) error {
	var lines []string
	for _, p := range logs {
		if p != staticLogPath && !strings.ContainsAny(p, " \t\n\\%") {
			lines = append(lines, "PathChanged="+p)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	sort.Strings(lines)
	d := filepath.Join(dir, logAccessDropIn)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	body := "# Written by origin-agent grant-log-access --systemd-generator: php-fpm's\n" +
		"# error logs on this host, from its configuration.\n[Path]\n" + strings.Join(lines, "\n") + "\n"
	return os.WriteFile(filepath.Join(d, "50-php-fpm-logs.conf"), []byte(body), 0o644)
}
