package kmsg

import (
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
)

// Input returns what turns the reader's records into the correlator's
// inputs, for agent.Pump: each record parse reads a kernel signal from
// (an OOM kill, a segfault, …), stamped with the record's wall time;
// records without one are dropped.
//
// The CaughtUp record closes Replayed: Pump converts records one at a
// time and hands each on before it converts the next, so by then every
// record the buffer held at Open is on its way to the correlator.
func (r *Reader) Input(parse parsers.Func) func(Record) (correlate.Input, bool) {
	return func(rec Record) (correlate.Input, bool) {
		if rec.CaughtUp {
			if r.replayed != nil {
				r.replayOnce.Do(func() { close(r.replayed) })
			}
			return correlate.Input{}, false
		}
		ev, err := parse(rec.Line)
		if err != nil || ev.Signal == parsers.SigNone {
			return correlate.Input{}, false // only signals matter to the correlator
		}
		ev.Time = rec.Time
		return correlate.Input{Type: parsers.TypeKernel, Event: ev, Path: r.path, Line: int64(rec.Seq), Text: rec.Line}, true
	}
}

// Replayed is closed once Input has converted the records the buffer
// held at Open (StartBuffer, StartRecent): a consumer starts reading the
// other logs after it, so that an incident re-read after a crash finds
// its kernel evidence already observed. It is nil for StartEnd, which
// replays nothing.
func (r *Reader) Replayed() <-chan struct{} { return r.replayed }
