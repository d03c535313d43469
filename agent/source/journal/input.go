package journal

import (
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
)

// Input returns what turns the journal's kernel entries into the
// correlator's inputs, for agent.Pump: each entry parse reads a kernel
// signal from (as a /dev/kmsg line, KmsgLine), stamped with the entry's
// time; entries without one are dropped.
func Input(parse parsers.Func) func(Entry) (correlate.Input, bool) {
	return func(e Entry) (correlate.Input, bool) {
		line := e.KmsgLine()
		ev, err := parse(line)
		if err != nil || ev.Signal == parsers.SigNone {
			return correlate.Input{}, false
		}
		ev.Time = e.Time
		return correlate.Input{Type: parsers.TypeKernel, Event: ev, Path: "journal", Text: line}, true
	}
}
