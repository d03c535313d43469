package kmsg

import "strconv"

// assembler joins the fragments older kernels export separately and
// counts records lost between reads. It does no I/O and keeps no clock,
// so the overrun and joining rules are tested on literal records.
type assembler struct {
	// A fragment run ('c' then '+'...) waiting for its end, which is only
	// known when the next whole record arrives or the device goes idle.
	pending  bool
	pendHead Header
	pendLast uint64 // seq of the last fragment joined
	pendText []byte

	haveSeq bool
	lastSeq uint64
}

// gap records seq as read and returns how many records were skipped
// since the previous one (0 for the first record or in-order records).
func (a *assembler) gap(seq uint64) uint64 {
	defer func() { a.lastSeq, a.haveSeq = seq, true }()
	if !a.haveSeq || seq <= a.lastSeq+1 {
		return 0
	}
	return seq - a.lastSeq - 1
}

// add feeds one record and calls emit for every message that is now
// complete, in order: a fragment run it ends, then the record itself.
// text is copied; emit owns the line it receives.
func (a *assembler) add(h Header, text []byte, emit func(h Header, line []byte)) {
	switch h.Flag {
	case 'c':
		a.flush(emit)
		a.start(h, text)
	case '+':
		if a.pending && h.Seq == a.pendLast+1 {
			a.pendText = append(a.pendText, text...)
			a.pendLast = h.Seq
			return
		}
		// The start of the run was lost (reader started mid-run, or an
		// overrun): keep what there is.
		a.flush(emit)
		a.start(h, text)
	default:
		a.flush(emit)
		emit(h, formatLine(h, text))
	}
}

func (a *assembler) start(h Header, text []byte) {
	a.pending, a.pendHead, a.pendLast = true, h, h.Seq
	a.pendText = append(a.pendText[:0], text...)
}

// flush emits a pending fragment run as one whole message.
func (a *assembler) flush(emit func(h Header, line []byte)) {
	if !a.pending {
		return
	}
	a.pending = false
	h := a.pendHead
	h.Flag = '-'
	emit(h, formatLine(h, a.pendText))
}

// formatLine renders a whole message as a /dev/kmsg record
// "prio,seq,usec,-;text" (the shape parsers/kernel reads) in a new slice.
func formatLine(h Header, text []byte) []byte {
	b := make([]byte, 0, 48+len(text))
	b = strconv.AppendUint(b, uint64(h.Prio), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, h.Seq, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, h.Usec, 10)
	b = append(b, ",-;"...)
	return append(b, text...)
}
