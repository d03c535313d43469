package oomwatch

import (
	"bytes"
	"strings"
)

// ParseOOMKill returns the "oom_kill N" counter of a cgroup v2
// memory.events or a cgroup v1 memory.oom_control file. Both are
// "key value" lines; ok is false when the key is missing or malformed
// (v1 kernels before 4.13 have no oom_kill line).
func ParseOOMKill(b []byte) (n uint64, ok bool) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		rest, found := bytes.CutPrefix(line, []byte("oom_kill "))
		if !found {
			continue
		}
		rest = bytes.TrimRight(rest, " \r")
		if len(rest) == 0 || len(rest) > 20 {
			return 0, false
		}
		for _, c := range rest {
			if c < '0' || c > '9' {
				return 0, false
			}
			d := uint64(c - '0')
			if n > (^uint64(0)-d)/10 {
				return 0, false
			}
			n = n*10 + d
		}
		return n, true
	}
	return 0, false
}

// ParseProcCgroup reads /proc/PID/cgroup ("ID:controllers:path" lines)
// and returns the process's cgroup v1 memory path and its unified (v2)
// path; either is "" when absent.
func ParseProcCgroup(b []byte) (v1Memory, unified string) {
	for _, line := range strings.Split(string(b), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok || id == "" {
			continue
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(path, "/") {
			continue
		}
		if id == "0" && ctrls == "" {
			unified = path
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "memory" {
				v1Memory = path
			}
		}
	}
	return v1Memory, unified
}
