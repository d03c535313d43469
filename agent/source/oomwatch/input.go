package oomwatch

import (
	"fmt"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
)

// Input turns a rise of a cgroup's OOM-kill counter into a kernel OOM
// signal for the correlator (agent.Pump), so that an OOM kill is seen
// even when no kernel log is readable. Its evidence text names the cgroup
// and the counter.
func Input(e Event) (correlate.Input, bool) {
	text := fmt.Sprintf("cgroup %s: oom_kill counter rose by %d to %d (memory.events)", e.Cgroup, e.Delta, e.Total)
	ev := parsers.Event{Time: e.Time, Kind: parsers.KindKernel, Signal: parsers.SigOOMKill, Process: []byte(e.Name), Message: []byte(text)}
	return correlate.Input{Type: parsers.TypeKernel, Event: ev, Path: e.Cgroup, Text: []byte(text)}, true
}
