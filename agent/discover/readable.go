package discover

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/origin-agent/origin-agent/agent/access"
	"github.com/origin-agent/origin-agent/parsers"
)

// LogAccessFix is the grant for php-fpm's error log, which php-fpm
// recreates root:root 0600 at every reopen: the path unit renews the ACL
// entry after each rotation (origin-agent grant-log-access does it once).
const LogAccessFix = "systemctl enable --now origin-agent-logaccess.path (renews user:origin-agent:r-- after each rotation; once: origin-agent grant-log-access)"

// Readable is whether the service can use one source or probe.
type Readable struct {
	Kind string `json:"kind"` // "source" or "probe"
	What string `json:"what"` // the source's type or the probe's name
	access.Verdict
	// Needed is false for an access the agent can do without (connecting
	// to php-fpm's socket: liveness comes from /proc/net/unix).
	Needed bool   `json:"needed"`
	Note   string `json:"note,omitempty"`
}

// Access says, for each source Watch returns and each unix-socket probe,
// whether u can use it, why not and the least-privilege grant that fixes
// it. Run as root it answers for any user; otherwise it may answer
// "cannot tell" for paths in directories the caller cannot enter.
// service: u is the packaged service (which has CAP_SYSLOG for /dev/kmsg).
func (h *Host) Access(u access.User, service bool) []Readable {
	var out []Readable
	for _, w := range h.Watch() {
		r := Readable{Kind: "source", What: string(w.Type), Needed: true}
		switch w.Kind {
		case "kmsg":
			r.Verdict = kmsgAccess(u, service)
		case "journal":
			r.Verdict = journalAccess(u)
		default:
			r.Verdict = fileAccess(w.Path, u)
			if !r.OK && (!r.Missing || r.BlockerDir) && w.Type == parsers.TypePHPFPM && service {
				r.Fix = LogAccessFix
			}
		}
		out = append(out, r)
	}
	seen := map[string]bool{}
	probe := func(target, owner string) {
		p, ok := strings.CutPrefix(target, "unix:")
		if !ok || seen[p] || !filepath.IsAbs(p) {
			return
		}
		seen[p] = true
		r := Readable{Kind: "probe", What: "upstream " + target, Verdict: access.Check(p, u, access.Connect),
			Note: "liveness comes from /proc/net/unix, which needs no access"}
		if !r.OK && !r.Missing {
			r.Fix = fmt.Sprintf("not needed; to let the agent connect (status page), add listen.acl_users = %s to %s", u.Name, owner)
		}
		out = append(out, r)
	}
	if h.PHPFPM != nil {
		for _, pl := range h.PHPFPM.Pools {
			probe("unix:"+pl.Listen, "pool "+pl.Name+" ("+pl.Where+")")
		}
	}
	for _, up := range h.upstreams() {
		probe(up, "the php-fpm pool that listens there")
	}
	return out
}

func (h *Host) upstreams() []string {
	var out []string
	if h.Nginx != nil {
		for _, u := range h.Nginx.Upstreams {
			out = append(out, u.Target)
		}
	}
	if h.Apache != nil {
		for _, u := range h.Apache.Upstreams {
			out = append(out, u.Target)
		}
	}
	return out
}

// fileAccess checks a log path; a glob from [sources] is checked through
// its matches (all must be readable) or, with none, its directory.
func fileAccess(p string, u access.User) access.Verdict {
	if !strings.ContainsAny(p, "*?[") {
		return access.Check(p, u, access.Read)
	}
	matches, _ := filepath.Glob(p)
	if len(matches) == 0 {
		v := access.Check(filepath.Dir(p), u, access.Search)
		v.Path = p
		if v.OK {
			v.OK, v.Missing, v.Reason = false, true, "no file matches yet"
		}
		return v
	}
	for _, m := range matches {
		if v := access.Check(m, u, access.Read); !v.OK {
			v.Path = p
			return v
		}
	}
	return access.Verdict{Path: p, OK: true}
}

// kmsgAccess: /dev/kmsg is readable by mode (0644 on most hosts); with
// kernel.dmesg_restrict=1 reading it takes CAP_SYSLOG, which the packaged
// unit gives the service.
func kmsgAccess(u access.User, service bool) access.Verdict {
	v := access.Check("/dev/kmsg", u, access.Read)
	if !v.OK || u.UID == 0 || service {
		return v
	}
	if b, err := os.ReadFile("/proc/sys/kernel/dmesg_restrict"); err == nil && strings.TrimSpace(string(b)) == "1" {
		v.OK = false
		v.Reason = "kernel.dmesg_restrict=1 and " + u.Name + " has no CAP_SYSLOG"
		v.Fix = "run it with AmbientCapabilities=CAP_SYSLOG, as the packaged unit does"
	}
	return v
}

// journalAccess: journalctl reads the journal files the user may read,
// the system journal only for groups systemd-journal and adm (an ACL
// systemd sets on /var/log/journal) and root.
func journalAccess(u access.User) access.Verdict {
	dir := "/var/log/journal"
	if _, err := os.Stat(dir); err != nil {
		dir = "/run/log/journal"
	}
	v := access.Check(dir, u, access.Read|access.Search)
	if files, _ := filepath.Glob(filepath.Join(dir, "*", "system.journal")); len(files) > 0 {
		v = access.Check(files[0], u, access.Read)
	}
	if !v.OK && !v.Missing {
		v.Fix = "usermod -aG systemd-journal " + u.Name + " (then restart origin-agent)"
	}
	return v
}
