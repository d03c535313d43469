package discover

import (
	"fmt"
	"strings"
)

// Kernel is the kernel log source the agent will read.
type Kernel struct {
	Source string `json:"source"`         // "kmsg", "file", "journal", "none" or "off"
	Path   string `json:"path,omitempty"` // /dev/kmsg, the file, or the journalctl binary
	Reason string `json:"reason"`         // why this one (and why not the ones before it)
}

// kernLogs are the files rsyslog writes kernel messages to: Debian, RHEL.
var kernLogs = []string{"/var/log/kern.log", "/var/log/messages"}

func (h *Host) kernel() {
	o := h.opts
	var why []string
	kmsg := func() bool {
		if err := readable(o.System.FS, "/dev/kmsg"); err != nil {
			why = append(why, fmt.Sprintf("/dev/kmsg: %v", err))
			return false
		}
		h.Kernel = Kernel{Source: "kmsg", Path: "/dev/kmsg"}
		return true
	}
	file := func(p string) bool {
		if err := readable(o.System.FS, p); err != nil {
			why = append(why, fmt.Sprintf("%s: %v", p, err))
			return false
		}
		h.Kernel = Kernel{Source: "file", Path: p}
		return true
	}
	journal := func() bool {
		p, err := o.System.LookPath("journalctl")
		if err != nil {
			why = append(why, "journalctl: not found")
			return false
		}
		h.Kernel = Kernel{Source: "journal", Path: p}
		return true
	}
	switch k := o.Kernel; k {
	case "off":
		h.Kernel = Kernel{Source: "off", Reason: "sources.kernel = \"off\""}
		return
	case "kmsg":
		kmsg()
	case "journal":
		journal()
	case "", "auto":
		_ = kmsg() || file(kernLogs[0]) || file(kernLogs[1]) || journal()
	default:
		file(k)
	}
	if h.Kernel.Source == "" {
		h.Kernel = Kernel{Source: "none", Reason: strings.Join(why, "; ")}
		h.problem("kernel: no kernel log source: %s", h.Kernel.Reason)
		return
	}
	if len(why) > 0 {
		h.Kernel.Reason = "not " + strings.Join(why, "; not ")
	} else if o.Kernel == "" || o.Kernel == "auto" {
		h.Kernel.Reason = "first available"
	} else {
		h.Kernel.Reason = "sources.kernel"
	}
}
