package kernel

import (
	"bytes"

	"github.com/origin-agent/origin-agent/parsers"
)

// classify sets Message to the kernel text (after any stamps) and fills the
// signal and its details.
//
// Shapes (mm/oom_kill.c, arch/x86/mm/fault.c, arch/x86/kernel/traps.c):
//
//	Out of memory: Killed process 4121 (php-fpm8.2) total-vm:... (also "Memory cgroup out of memory: ")
//	Out of memory: Kill process 4121 (php-fpm) score 912 or sacrifice child (before 5.1)
//	Killed process 4121 (php-fpm) total-vm:... (the old second line)
//	php-fpm8.2 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
//	oom-kill:constraint=CONSTRAINT_MEMCG,...,task_memcg=/x,task=php-fpm8.2,pid=4121,uid=33
//	oom_reaper: reaped process 4121 (php-fpm8.2), now anon-rss:0kB, ...
//	php-fpm8.2[4121]: segfault at 0 ip ... error 4 in php-fpm8.2[...]
//	traps: php-fpm8.2[4121] general protection fault ip:... sp:... error:0 in ...
//	traps: php[4121] trap invalid opcode ip:... (older kernels: "php[4121]: trap invalid opcode")
func classify(ev *parsers.Event, text []byte) {
	ev.Message = text
	switch {
	case bytes.HasPrefix(text, []byte("oom-kill:")):
		oomConstraint(ev, text[len("oom-kill:"):])
		return
	case bytes.HasPrefix(text, []byte("oom_reaper: reaped process ")):
		if pidName(ev, text[len("oom_reaper: reaped process "):]) {
			ev.Signal = parsers.SigOOMReaper
		}
		return
	}
	if i := bytes.Index(text, []byte(" invoked oom-killer: ")); i > 0 {
		ev.Signal, ev.Process = parsers.SigOOMInvoked, text[:i]
		return
	}
	for _, k := range [...]string{"Killed process ", "Kill process "} {
		i := bytes.Index(text, []byte(k))
		if i < 0 || (i > 0 && !bytes.HasSuffix(text[:i], []byte(": "))) {
			continue
		}
		if i > 0 && !bytes.Contains(text[:i], []byte("out of memory")) && !bytes.Contains(text[:i], []byte("Out of memory")) {
			continue
		}
		if pidName(ev, text[i+len(k):]) {
			ev.Signal = parsers.SigOOMKill
		}
		return
	}
	fault(ev, text)
}

// pidName parses "4121 (php-fpm8.2)" at the start of b.
func pidName(ev *parsers.Event, b []byte) bool {
	pid, used := leadingInt(b)
	if used == 0 || pid == 0 || used+2 > len(b) || b[used] != ' ' || b[used+1] != '(' {
		return false
	}
	name := b[used+2:]
	end := bytes.IndexByte(name, ')')
	if end < 0 {
		return false
	}
	ev.ChildPID, ev.Process = pid, name[:end]
	return true
}

// oomConstraint reads the key=value list after "oom-kill:".
func oomConstraint(ev *parsers.Event, b []byte) {
	for len(b) > 0 {
		var kv []byte
		if c := bytes.IndexByte(b, ','); c >= 0 {
			kv, b = b[:c], b[c+1:]
		} else {
			kv, b = b, nil
		}
		eq := bytes.IndexByte(kv, '=')
		if eq < 0 {
			continue
		}
		k, v := kv[:eq], kv[eq+1:]
		switch string(k) {
		case "task":
			ev.Process = v
		case "pid":
			ev.ChildPID, _ = parsers.Atoi(v)
		case "task_memcg":
			ev.Module = v
		}
	}
	if ev.ChildPID != 0 {
		ev.Signal = parsers.SigOOMConstraint
	}
}

// fault recognises a user-space fault report and takes the name and pid
// from its "name[pid]" (a comm may hold spaces, so the name ends at the
// last '[' before the pid).
func fault(ev *parsers.Event, text []byte) {
	var i int
	switch {
	case bytes.HasPrefix(text, []byte("traps: ")):
		rest := text[len("traps: "):]
		i = bytes.Index(rest, []byte("] general protection fault "))
		if i < 0 {
			i = bytes.Index(rest, []byte("] trap "))
		}
		if i < 0 {
			return
		}
		text = rest
	default:
		i = bytes.Index(text, []byte("]: segfault at "))
		if i < 0 {
			i = bytes.Index(text, []byte("]: trap "))
		}
		if i < 0 {
			i = bytes.Index(text, []byte("]: general protection fault "))
		}
		if i < 0 {
			return
		}
	}
	lb := bytes.LastIndexByte(text[:i], '[')
	if lb <= 0 {
		return
	}
	pid, ok := parsers.Atoi(text[lb+1 : i])
	if !ok || pid == 0 {
		return
	}
	ev.Signal, ev.ChildPID, ev.Process = parsers.SigSegfault, pid, text[:lb]
}
