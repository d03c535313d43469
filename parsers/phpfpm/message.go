package phpfpm

import (
	"bytes"

	"github.com/origin-agent/origin-agent/parsers"
)

// classify fills Signal and the detail fields from the message text (after
// the level). Message is set to the text after the "[pool NAME] " tag.
func classify(ev *parsers.Event, msg []byte) {
	if pool, rest, ok := poolTag(msg); ok {
		ev.Pool = pool
		msg = rest
	}
	ev.Message = msg
	switch {
	case bytes.HasPrefix(msg, []byte("child ")):
		child(ev, msg[len("child "):])
	case bytes.HasPrefix(msg, []byte("server reached ")):
		// dynamic: "server reached pm.max_children setting (5), consider raising it";
		// ondemand: "server reached max_children setting (5), consider raising it".
		if i := bytes.Index(msg, []byte("max_children setting (")); i >= 0 {
			ev.Signal = parsers.SigFPMMaxChildren
			ev.Value, _ = number(msg[i+len("max_children setting ("):], ')')
		}
	case bytes.HasPrefix(msg, []byte("seems busy ")):
		ev.Signal = parsers.SigFPMSeemsBusy
		// "..., there are 0 idle, and 10 total children"
		if i := bytes.LastIndex(msg, []byte(", and ")); i >= 0 {
			ev.Value, _ = number(msg[i+len(", and "):], ' ')
		}
	case bytes.HasPrefix(msg, []byte("fpm is running, pid ")):
		ev.Signal = parsers.SigFPMStarted
		ev.PID, _ = parsers.Atoi(msg[len("fpm is running, pid "):])
	case bytes.Equal(msg, []byte("ready to handle connections")):
		ev.Signal = parsers.SigFPMStarted
	case bytes.HasPrefix(msg, []byte("Terminating ...")), bytes.HasPrefix(msg, []byte("Finishing ...")),
		bytes.HasPrefix(msg, []byte("exiting, bye-bye!")), bytes.HasPrefix(msg, []byte("Reloading in progress ...")):
		ev.Signal = parsers.SigFPMStopping
	}
}

// child handles the "child N ..." messages of fpm_children.c and fpm_request.c.
func child(ev *parsers.Event, b []byte) {
	pid, n := leadingInt(b)
	if n == 0 {
		return
	}
	ev.ChildPID = pid
	rest := b[n:]
	switch {
	case bytes.HasPrefix(rest, []byte(" exited on signal ")):
		// "exited on signal 11 (SIGSEGV - core dumped) after 0.007173 seconds from start"
		ev.Signal = parsers.SigFPMChildExited
		ev.ExitSig, _ = number(rest[len(" exited on signal "):], ' ')
	case bytes.HasPrefix(rest, []byte(" exited with code ")):
		ev.Signal = parsers.SigFPMChildExited
		ev.ExitCode, _ = number(rest[len(" exited with code "):], ' ')
	case bytes.HasPrefix(rest, []byte(", script '")):
		// ", script '/x.php' (request: \"GET /x.php\") execution timed out (5.012345 sec), terminating"
		s := rest[len(", script '"):]
		q := bytes.Index(s, []byte("' (request: \""))
		if q < 0 {
			return
		}
		ev.Process = s[:q]
		r := s[q+len("' (request: \""):]
		// The request is "METHOD URI" as php-fpm saw it; find its closing
		// quote from the end because the URI may hold quotes.
		var sig parsers.Signal
		var tail []byte
		if i := bytes.LastIndex(r, []byte("\") execution timed out (")); i >= 0 {
			sig, ev.Request, tail = parsers.SigFPMExecTimeout, r[:i], r[i+len("\") execution timed out ("):]
		} else if i := bytes.LastIndex(r, []byte("\") executing too slow (")); i >= 0 {
			sig, ev.Request, tail = parsers.SigFPMSlowlog, r[:i], r[i+len("\") executing too slow ("):]
		} else {
			return
		}
		ev.Signal = sig
		if sp := bytes.IndexByte(tail, ' '); sp > 0 {
			if us, ok := parsers.ParseSeconds(tail[:sp]); ok {
				ev.Value = int((us + 500_000) / 1_000_000)
			}
		}
	}
}

// number parses the decimal integer at the start of b, which must end at
// stop (or at the end of b).
func number(b []byte, stop byte) (int, bool) {
	n, i := leadingInt(b)
	if i == 0 || (i < len(b) && b[i] != stop) {
		return 0, false
	}
	return n, true
}

// leadingInt parses the digits at the start of b and says how many it used.
func leadingInt(b []byte) (n, used int) {
	for used < len(b) && used < 18 && b[used] >= '0' && b[used] <= '9' {
		n = n*10 + int(b[used]-'0')
		used++
	}
	return n, used
}
