package checks

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// WebPort is a port a web server's configuration listens on where
// Cloudflare can reach it.
type WebPort struct {
	Port      uint16 `json:"port"`
	Server    string `json:"server"`    // "nginx", "apache2" or "httpd": the unit that serves it
	Directive string `json:"directive"` // "listen 443 ssl", "<VirtualHost *:443>"
	Where     string `json:"where"`     // file:line
}

// cloudflarePorts are the ports Cloudflare proxies HTTP and HTTPS to
// (developers.cloudflare.com/fundamentals/reference/network-ports): a
// listener on any other port is not what Cloudflare's visitors reach.
var cloudflarePorts = []uint16{80, 8080, 8880, 2052, 2082, 2086, 2095, 443, 2053, 2083, 2087, 2096, 8443}

// WebPorts are the ports to check, from the web servers' configurations:
// nginx `listen` (a server without one listens on 80) and Apache's
// <VirtualHost> addresses (its Listen ports when it has no virtual host:
// Debian's ports.conf names 443 inside <IfModule ssl_module>, which counts
// only when a virtual host uses it). Loopback and unix-socket listeners are
// left out (Cloudflare cannot reach them), and so are ports Cloudflare does
// not proxy to. apacheUnit is "apache2" (Debian) or "httpd" (RHEL). Either
// config may be nil. The result is sorted by port, one WebPort per port and
// server.
func WebPorts(ngx *nginxconf.Config, apc *apacheconf.Config, apacheUnit string) []WebPort {
	var out []WebPort
	add := func(w WebPort) {
		if !slices.Contains(cloudflarePorts, w.Port) {
			return
		}
		for _, o := range out {
			if o.Port == w.Port && o.Server == w.Server {
				return
			}
		}
		out = append(out, w)
	}
	if ngx != nil {
		for _, s := range ngx.Servers() {
			if len(s.Listens) == 0 {
				add(WebPort{Port: 80, Server: "nginx", Directive: "server without listen (nginx listens on *:80)", Where: where(s.File, s.Line)})
			}
			for _, l := range s.Listens {
				if l.Port <= 0 || l.Port > 65535 || loopbackAddr(l.Address) {
					continue
				}
				d := "listen " + strings.Join(append([]string{l.Address}, l.Params...), " ")
				add(WebPort{Port: uint16(l.Port), Server: "nginx", Directive: d, Where: where(l.File, l.Line)})
			}
		}
	}
	if apc != nil {
		if apacheUnit == "" {
			apacheUnit = "apache2"
		}
		vhosts := 0
		for _, v := range apc.VHosts {
			if v == nil {
				continue
			}
			vhosts++
			for _, a := range v.Addrs {
				if loopbackAddr(a) {
					continue
				}
				var ports []int
				if k := strings.LastIndexByte(a, ':'); k >= 0 && k > strings.LastIndexByte(a, ']') {
					if p, err := strconv.Atoi(a[k+1:]); err == nil {
						ports = []int{p}
					}
				}
				if ports == nil { // "*" or no port: every Listen port
					for _, l := range apc.Listen {
						ports = append(ports, l.Port)
					}
				}
				for _, p := range ports {
					if p > 0 && p < 65536 {
						add(WebPort{Port: uint16(p), Server: apacheUnit, Directive: "<VirtualHost " + strings.Join(v.Addrs, " ") + ">", Where: where(v.File, v.Line)})
					}
				}
			}
		}
		if vhosts == 0 {
			for _, l := range apc.Listen {
				if l.Port > 0 && l.Port < 65536 && !loopbackAddr(l.Addr) {
					add(WebPort{Port: uint16(l.Port), Server: apacheUnit, Directive: fmt.Sprintf("Listen %d", l.Port)})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b WebPort) int { return int(a.Port) - int(b.Port) })
	return out
}

// PortList is the distinct ports of ws, in order.
func PortList(ws []WebPort) []uint16 {
	var out []uint16
	for _, w := range ws {
		if !slices.Contains(out, w.Port) {
			out = append(out, w.Port)
		}
	}
	return out
}

// ConfiguredOn is the WebPorts for port.
func ConfiguredOn(ws []WebPort, port uint16) []WebPort {
	var out []WebPort
	for _, w := range ws {
		if w.Port == port {
			out = append(out, w)
		}
	}
	return out
}

// loopbackAddr reports whether a listen address (nginx "127.0.0.1:8080",
// "[::1]:80", "localhost:80"; apache "127.0.0.1:80") is loopback only.
func loopbackAddr(a string) bool {
	if strings.HasPrefix(a, "unix:") {
		return true
	}
	host := a
	if i := strings.LastIndexByte(a, ':'); i >= 0 && i > strings.LastIndexByte(a, ']') {
		host = a[:i]
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func where(file string, line int) string {
	if file == "" {
		return ""
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}
