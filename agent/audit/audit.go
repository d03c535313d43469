// Package audit runs the one-shot origin audit: listeners, the firewall
// against Cloudflare's ranges and bans of Cloudflare addresses, the TLS
// certificate, nginx real_ip, proxy timeouts, access-log formats and
// php-fpm max_children. It gathers inputs through the seams in
// Options (so tests inject captured text) and judges them with agent/checks
// and package firewall; --apply and --revert are in apply.go.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/firewall"
	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/fpmconf"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// Options are the audit's inputs. Zero fields get the host defaults from
// Defaults.
type Options struct {
	// Ports Cloudflare connects to; empty derives them from the web
	// servers' configurations (checks.WebPorts), 80 and 443 when there is
	// none. PortsFrom names the setting that set them ("--ports").
	Ports     []uint16
	PortsFrom string
	Ranges    firewall.Ranges

	// Lister reads the firewall; nil skips the firewall checks with
	// NoFirewall as the reason.
	Lister     firewall.Lister
	NoFirewall string

	FS          fs.FS    // configuration files; os.DirFS("/")
	NginxConf   string   // "/etc/nginx/nginx.conf"
	ApacheConf  string   // "/etc/apache2/apache2.conf"
	FPMPatterns []string // php-fpm master and pool files

	ProcRoot string // "/proc"
	TLSHost  string // "127.0.0.1"
	Dial     func(port uint16) checks.TLSDialer
	Memory   func(ctx context.Context) (checks.Memory, error)
	Now      time.Time
}

// Report is the audit's result.
type Report struct {
	Checks []checks.Check
	// Errors are parts that could not run (xtables lock held, unreadable
	// /proc): the audit is incomplete.
	Errors []string
}

// Outcome sums a report up; the command turns it into its exit status.
type Outcome int

// Outcomes, from the best.
const (
	Passed     Outcome = iota // no check failed (warnings and skips do not fail the audit)
	Failed                    // a check failed
	Incomplete                // no check failed, but a part could not run
)

// Outcome is Failed when a check failed, else Incomplete when a part could
// not run, else Passed.
func (r Report) Outcome() Outcome {
	for _, c := range r.Checks {
		if c.Status == checks.Fail {
			return Failed
		}
	}
	if len(r.Errors) > 0 {
		return Incomplete
	}
	return Passed
}

// Defaults fills unset fields for a real host.
func (o *Options) Defaults() {
	if o.FS == nil {
		o.FS = os.DirFS("/")
	}
	if o.NginxConf == "" {
		o.NginxConf = "/etc/nginx/nginx.conf"
	}
	if o.ApacheConf == "" {
		o.ApacheConf = "/etc/apache2/apache2.conf"
	}
	if o.FPMPatterns == nil {
		o.FPMPatterns = []string{"/etc/php/*/fpm/php-fpm.conf", "/etc/php-fpm.conf"}
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.TLSHost == "" {
		o.TLSHost = "127.0.0.1"
	}
	if o.Dial == nil {
		host := o.TLSHost
		o.Dial = func(port uint16) checks.TLSDialer {
			return checks.DialTLS(fmt.Sprintf("%s:%d", host, port), 3*time.Second)
		}
	}
	if o.Memory == nil {
		o.Memory = checks.ReadMemory
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.NoFirewall == "" {
		o.NoFirewall = "firewall not read"
	}
}

// Run performs every check, in the order of DESIGN's list.
func Run(ctx context.Context, o Options) Report {
	o.Defaults()
	var r Report

	ngx, ngxErr := nginxconf.Load(o.FS, o.NginxConf)
	if ngxErr != nil && !errors.Is(ngxErr, fs.ErrNotExist) {
		r.Errors = append(r.Errors, fmt.Sprintf("nginx config %s: %v", o.NginxConf, ngxErr))
	}
	if ngxErr != nil {
		ngx = nil
	}
	apc, apErr := apacheconf.Load(o.FS, strings.TrimPrefix(o.ApacheConf, "/"))
	if apErr != nil {
		apc = nil
	}
	configured := checks.WebPorts(ngx, apc, apacheUnit(o.ApacheConf))
	if len(o.Ports) == 0 {
		o.Ports = checks.PortList(configured)
		if len(o.Ports) == 0 {
			o.Ports = []uint16{80, 443} // no web server configuration read
		}
	} else if o.PortsFrom == "" {
		o.PortsFrom = "the audited ports"
	}

	socks, err := upstream.ReadTCP(o.ProcRoot)
	var listening []uint16
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		for _, p := range o.Ports {
			r.Checks = append(r.Checks, checks.Skipped(fmt.Sprintf("listener.%d", p), "cannot read the socket table: "+err.Error()))
		}
	} else {
		var inodes []uint64
		for _, s := range socks {
			inodes = append(inodes, s.Inode)
			if slices.Contains(o.Ports, s.Addr.Port()) {
				listening = append(listening, s.Addr.Port())
			}
		}
		owners := checks.SocketOwners(ctx, o.ProcRoot, inodes)
		running := checks.WebServerProcs(o.ProcRoot)
		for _, p := range o.Ports {
			lc := checks.ListenerContext{Configured: checks.ConfiguredOn(configured, p), Running: running, Override: o.PortsFrom}
			r.Checks = append(r.Checks, checks.ListenerCheck(p, socks, owners, lc))
		}
	}

	in := FirewallInput{Ranges: o.Ranges, Ports: o.Ports, Reason: o.NoFirewall}
	if o.Lister != nil {
		fw, err := firewall.Read(ctx, o.Lister)
		switch {
		case err == nil:
			in.FW = fw
			for _, e := range fw.Errors {
				if !errors.Is(e, firewall.ErrNotInstalled) {
					r.Errors = append(r.Errors, "firewall: "+e.Error())
				}
			}
		case allNotInstalled(fw):
			in.Reason = "iptables is not installed (nor nft): no firewall to audit"
		default:
			in.Reason = "cannot read the firewall: " + err.Error()
			r.Errors = append(r.Errors, in.Reason)
		}
	}
	r.Checks = append(r.Checks, FirewallChecks(in)...)
	r.Checks = append(r.Checks, checks.BansCheck(in.FW, in.Reason, o.Ranges, o.Ports))

	r.Checks = append(r.Checks, tlsCheck(ctx, o, ngx, apc, listening))

	if ngx == nil {
		r.Checks = append(r.Checks, checks.Skipped("nginx.real_ip", "no nginx configuration at "+o.NginxConf))
	} else {
		r.Checks = append(r.Checks, checks.RealIPCheck(ngx.RealIP(), o.Ranges.All()))
	}
	var ngxTimeouts []nginxconf.Timeout
	if ngx != nil {
		ngxTimeouts = ngx.Timeouts()
	}
	r.Checks = append(r.Checks, checks.TimeoutsCheck(ngxTimeouts, apacheTimeouts(apc), ngx != nil || apc != nil))
	r.Checks = append(r.Checks, checks.LogFormatCheck(ngx, apc))

	r.Checks = append(r.Checks, fpmCheck(ctx, o, &r))
	return r
}

// DerivedPorts are the ports the audit checks when Options.Ports is empty:
// those the web servers' configurations listen on (checks.WebPorts), or 80
// and 443 when no configuration can be read. --apply without --ports
// uses them too.
func DerivedPorts(o Options) []uint16 {
	o.Defaults()
	ngx, err := nginxconf.Load(o.FS, o.NginxConf)
	if err != nil {
		ngx = nil
	}
	apc, err := apacheconf.Load(o.FS, strings.TrimPrefix(o.ApacheConf, "/"))
	if err != nil {
		apc = nil
	}
	if p := checks.PortList(checks.WebPorts(ngx, apc, apacheUnit(o.ApacheConf))); len(p) > 0 {
		return p
	}
	return []uint16{80, 443}
}

// apacheUnit is the systemd unit of the Apache whose configuration is at
// conf: httpd on RHEL, apache2 on Debian.
func apacheUnit(conf string) string {
	if strings.Contains(conf, "/httpd/") {
		return "httpd"
	}
	return "apache2"
}

func allNotInstalled(fw *firewall.Firewall) bool {
	if fw == nil || len(fw.Errors) == 0 {
		return false
	}
	for _, e := range fw.Errors {
		if !errors.Is(e, firewall.ErrNotInstalled) {
			return false
		}
	}
	return true
}

// tlsPort picks the port whose certificate is checked: 443 if audited;
// else an audited port that the nginx or apache configuration serves with
// TLS (`listen … ssl`, a vhost with SSLCertificateFile). With no
// configuration read, the first audited port other than 80 (the admin
// named it). A port the configuration serves in plain HTTP is never
// probed with a TLS handshake: that would report a broken certificate on
// a healthy HTTP site. why says what was decided when the result is 0.
func tlsPort(ports []uint16, ngx *nginxconf.Config, apc *apacheconf.Config) (port uint16, why string) {
	if slices.Contains(ports, 443) {
		return 443, ""
	}
	tls, plain := map[int]bool{}, map[int]bool{}
	if ngx != nil {
		for _, s := range ngx.Servers() {
			for _, l := range s.Listens {
				if l.SSL {
					tls[l.Port] = true
				} else {
					plain[l.Port] = true
				}
			}
		}
	}
	if apc != nil {
		for _, v := range apc.VHosts {
			for _, p := range v.Ports {
				if v.SSLCertFile != "" {
					tls[p] = true
				} else {
					plain[p] = true
				}
			}
		}
	}
	for _, p := range ports {
		if tls[int(p)] {
			return p, ""
		}
	}
	for _, p := range ports {
		if p != 80 && !plain[int(p)] {
			return p, ""
		}
	}
	if len(plain) > 0 {
		return 0, "no audited port is served with TLS in the web server configuration"
	}
	return 0, "no TLS port audited"
}

func tlsCheck(ctx context.Context, o Options, ngx *nginxconf.Config, apc *apacheconf.Config, listening []uint16) checks.Check {
	port, why := tlsPort(o.Ports, ngx, apc)
	if port == 0 {
		return checks.Skipped("tls.certificate", why)
	}
	if !slices.Contains(listening, port) {
		return checks.Skipped("tls.certificate", fmt.Sprintf("nothing listens on port %d", port))
	}
	return checks.TLSCheck(ctx, port, o.Dial(port), ServerNames(ngx, apc, port), o.Now, nil)
}

// ServerNames lists the names to try with SNI: nginx server_names of servers
// listening on port with ssl, and apache ServerName/ServerAlias of vhosts on
// port; regex and catch-all names are left out, "*.example.com" is tried as
// "www.example.com". At most 10, in config order.
func ServerNames(ngx *nginxconf.Config, apc *apacheconf.Config, port uint16) []string {
	var names []string
	add := func(n string) {
		n = strings.TrimPrefix(n, ".")
		if n == "" || n == "_" || n == "localhost" || strings.HasPrefix(n, "~") || strings.Contains(n, "$") || strings.HasSuffix(n, ".*") {
			return
		}
		if strings.HasPrefix(n, "*.") {
			n = "www" + n[1:]
		}
		if !slices.Contains(names, n) && len(names) < 10 {
			names = append(names, n)
		}
	}
	if ngx != nil {
		for _, s := range ngx.Servers() {
			for _, l := range s.Listens {
				if l.Port == int(port) && (l.SSL || port == 443) {
					for _, n := range s.Names {
						add(n)
					}
					break
				}
			}
		}
	}
	if apc != nil {
		for _, v := range apc.VHosts {
			if slices.Contains(v.Ports, int(port)) {
				add(v.ServerName)
				for _, a := range v.ServerAliases {
					add(a)
				}
			}
		}
	}
	return names
}

// apacheTimeouts lists the Apache settings that bound how long a proxied
// request (mod_proxy, mod_proxy_fcgi to php-fpm) may wait for its answer:
// a proxy's own timeout=, else ProxyTimeout, else Timeout (the vhost's,
// then the main server's, as Apache merges them). Timeout on its own is an
// I/O idle timeout, not a response deadline: a server that proxies nothing
// (mod_php, static files) is not compared, so Debian's stock Timeout 300
// warns only where php-fpm or a backend sits behind Apache.
func apacheTimeouts(apc *apacheconf.Config) []checks.ServerTimeout {
	if apc == nil {
		return nil
	}
	var out []checks.ServerTimeout
	seen := map[string]bool{}
	add := func(t checks.ServerTimeout) {
		if k := t.Name + "\x00" + t.Where; !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	where := func(s *apacheconf.Server) string {
		if s.File == "" {
			return "main server"
		}
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	main := apc.Main
	if main == nil {
		main = &apacheconf.Server{}
	}
	for _, s := range append([]*apacheconf.Server{main}, apc.VHosts...) {
		if s == nil {
			continue
		}
		proxies := s.Proxies
		if s != main {
			proxies = append(slices.Clip(proxies), main.Proxies...) // a vhost inherits the main server's
		}
		bare := false
		for _, p := range proxies {
			if p.Timeout > 0 {
				add(checks.ServerTimeout{Name: p.Directive + " timeout=", Value: p.Timeout, Where: fmt.Sprintf("%s:%d", p.File, p.Line), Software: "apache"})
			} else {
				bare = true
			}
		}
		if !bare {
			continue
		}
		for _, c := range []struct {
			name string
			srv  *apacheconf.Server
			v    time.Duration
		}{
			{"ProxyTimeout", s, s.ProxyTimeout}, {"ProxyTimeout", main, main.ProxyTimeout},
			{"Timeout", s, s.Timeout}, {"Timeout", main, main.Timeout},
		} {
			if c.v > 0 {
				add(checks.ServerTimeout{Name: c.name, Value: c.v, Where: where(c.srv), Software: "apache"})
				break
			}
		}
	}
	return out
}

func fpmCheck(ctx context.Context, o Options, r *Report) checks.Check {
	cfg, err := fpmconf.Load(o.FS, o.FPMPatterns...)
	if cfg == nil {
		if err != nil {
			return checks.Skipped("php_fpm.max_children", "cannot read php-fpm configuration: "+err.Error())
		}
		return checks.Skipped("php_fpm.max_children", "no php-fpm pool configuration found")
	}
	var pools []checks.Pool
	for _, p := range cfg.Pools {
		pools = append(pools, checks.Pool{Name: p.Name, File: "/" + strings.TrimPrefix(p.File, "/"), MaxChildren: p.MaxChildren, MemoryLimit: p.MemoryLimit})
	}
	if len(pools) == 0 {
		return checks.Skipped("php_fpm.max_children", "no php-fpm pool configuration found")
	}
	m, err := o.Memory(ctx)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return checks.Skipped("php_fpm.max_children", err.Error())
	}
	return checks.MaxChildrenCheck(pools, m)
}
