// Package discover finds what a web origin runs and where it logs: nginx
// (through `nginx -T`, else its configuration files), Apache (`apache2ctl
// -S` / `httpd -S` and its configuration), php-fpm pools and the kernel log
// source. Host.Watch turns that into the list of sources `origin-agent run`
// tails. Discovery is read-only and goes through a System, so tests run on
// fixtures; what it cannot read becomes a Problem, never a failure.
package discover

import (
	"context"
	"fmt"

	"github.com/origin-agent/origin-agent/agent/config"
)

// Options say where to look. The zero value looks in the default places of
// Debian and RHEL through System (which must be set: OS() on a host).
type Options struct {
	System System

	NginxConf   string // main nginx config; "" = /etc/nginx/nginx.conf; "off" skips nginx
	NginxBinary string // "" = "nginx" on PATH
	ApacheConf  string // "" = apache2.conf (Debian) or httpd.conf (RHEL); "off" skips apache
	ApacheCtl   string // "" = apache2ctl, else httpd, on PATH
	PHPFPMConf  string // "" = /etc/php/*/fpm/php-fpm.conf and /etc/php-fpm.conf; "off" skips php-fpm
	Kernel      string // "" or "auto", "kmsg", "journal", an absolute path, "off"

	// Explicit log lists (config [sources]): a non-empty list replaces what
	// discovery found for that type in Watch.
	NginxAccess, NginxError, ApacheAccess, ApacheError, PHPFPM []string
}

// FromConfig returns the Options a configuration asks for.
func FromConfig(c *config.Config, sys System) Options {
	s := c.Sources
	return Options{System: sys, NginxConf: s.NginxConf, ApacheConf: s.ApacheConf, PHPFPMConf: s.PHPFPMConf, Kernel: s.Kernel,
		NginxAccess: s.NginxAccess, NginxError: s.NginxError, ApacheAccess: s.ApacheAccess, ApacheError: s.ApacheError, PHPFPM: s.PHPFPM}
}

// Host is what discovery found. A nil server means it is not installed (or
// was turned off); Problems say what could not be read and why.
type Host struct {
	Nginx    *Nginx   `json:"nginx,omitempty"`
	Apache   *Apache  `json:"apache,omitempty"`
	PHPFPM   *PHPFPM  `json:"php_fpm,omitempty"`
	Kernel   Kernel   `json:"kernel"`
	Problems []string `json:"problems,omitempty"`

	opts Options
}

// Discover looks at the host. It does not fail: whatever it cannot read
// is listed in Host.Problems.
func Discover(ctx context.Context, o Options) *Host {
	h := &Host{opts: o}
	h.nginx(ctx)
	h.apache(ctx)
	h.phpfpm()
	h.kernel()
	return h
}

func (h *Host) problem(format string, args ...any) {
	h.Problems = append(h.Problems, fmt.Sprintf(format, args...))
}
