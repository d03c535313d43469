package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
)

// What --restrict could cut, read from the kernel rather than from the
// environment: sudo drops SSH_CONNECTION, tmux and screen sessions outlive
// the connection that started them, and sshd may listen on any port.
//
//   - The TCP sockets of the network namespace (/proc/net/tcp, tcp6): the
//     listeners and the established connections on the restricted ports.
//   - Who holds each of them: /proc/PID/fd/* links "socket:[INODE]" to the
//     inode /proc/net/tcp shows, /proc/PID/comm names the process.
//   - The caller's ancestors (/proc/PID/stat, its parent), up to PID 1: the
//     SSH session a command was typed in holds the connection it came on
//     (sshd: user@pts/0 → bash → sudo → origin-agent).
//
// --restrict is refused when sshd listens on a restricted port (new SSH
// sessions from outside Cloudflare would be dropped), when an sshd or one
// of the caller's ancestors holds an established connection on one (the
// session stays up thanks to the ESTABLISHED rule, but could not be opened
// again), and when it cannot tell: /proc/net/tcp unreadable, the caller's
// ancestry unreadable, or a listener on a restricted port whose owner
// cannot be seen (another PID namespace, hidepid).

// ErrCannotTell is wrapped when the kernel's view could not be read.
var ErrCannotTell = errors.New("cannot tell which SSH sessions --restrict would cut")

// sshdNames are the process names (comm) of SSH servers: OpenSSH's
// listener and, since 9.8, its per-session process, and Dropbear.
var sshdNames = []string{"sshd", "sshd-session", "dropbear"}

// Holder is a process holding a socket.
type Holder struct {
	PID  int
	Comm string
}

// Exposure is what --restrict of some ports would touch.
type Exposure struct {
	// SSHD are listeners of SSH servers on the restricted ports.
	SSHD []Socket
	// Sessions are established connections on the restricted ports held by
	// an SSH server or by an ancestor of the caller.
	Sessions []Socket
	// Unowned are listeners on the restricted ports whose holder is not
	// visible.
	Unowned []Socket
}

// Socket is one TCP socket and who holds it.
type Socket struct {
	Local, Remote netip.AddrPort
	Holders       []Holder
	Ancestor      bool // held by an ancestor of the caller
}

func (s Socket) String() string {
	var who []string
	for _, h := range s.Holders {
		who = append(who, fmt.Sprintf("%s[%d]", h.Comm, h.PID))
	}
	held := "no visible process"
	if len(who) > 0 {
		held = strings.Join(who, ", ")
	}
	if s.Remote.Port() == 0 {
		return fmt.Sprintf("%s (%s)", s.Local, held)
	}
	return fmt.Sprintf("%s from %s (%s)", s.Local, s.Remote, held)
}

// ReadExposure reads, under proc (normally "/proc"), what --restrict of
// ports would touch for the process pid (normally os.Getpid()).
func ReadExposure(proc string, pid int, ports []uint16) (Exposure, error) {
	var socks []upstream.TCPSocket
	for _, name := range []string{"tcp", "tcp6"} {
		p := filepath.Join(proc, "net", name)
		b, err := os.ReadFile(p)
		if err != nil {
			if name == "tcp6" && errors.Is(err, fs.ErrNotExist) {
				continue // IPv6 disabled
			}
			return Exposure{}, fmt.Errorf("%w: %w", ErrCannotTell, err)
		}
		s, err := upstream.ParseTCPSockets(b)
		if err != nil {
			return Exposure{}, fmt.Errorf("%w: %s: %w", ErrCannotTell, p, err)
		}
		socks = append(socks, s...)
	}
	// Only sockets on the restricted ports matter.
	wanted := map[uint64]upstream.TCPSocket{}
	for _, s := range socks {
		if s.Inode != 0 && slices.Contains(ports, s.Local.Port()) && (s.State == upstream.TCPListen || s.State == upstream.TCPEstablished) {
			wanted[s.Inode] = s
		}
	}
	ancestors, err := ancestry(proc, pid)
	if err != nil {
		return Exposure{}, fmt.Errorf("%w: the processes this command runs under: %w", ErrCannotTell, err)
	}
	holders, err := socketHolders(proc, wanted, ancestors)
	if err != nil {
		return Exposure{}, fmt.Errorf("%w: %w", ErrCannotTell, err)
	}
	var e Exposure
	for ino, s := range wanted {
		sock := Socket{Local: s.Local, Remote: s.Remote, Holders: holders[ino]}
		sshd := false
		for _, h := range sock.Holders {
			sshd = sshd || slices.Contains(sshdNames, h.Comm)
			sock.Ancestor = sock.Ancestor || ancestors[h.PID]
		}
		// A listener PID 1 holds is socket activation: systemd's
		// ssh.socket (Ubuntu's default since 22.10) is one.
		activated := slices.ContainsFunc(sock.Holders, func(h Holder) bool { return h.PID == 1 })
		switch {
		case s.State == upstream.TCPListen && sshd:
			e.SSHD = append(e.SSHD, sock)
		case s.State == upstream.TCPListen && (len(sock.Holders) == 0 || activated):
			e.Unowned = append(e.Unowned, sock)
		case s.State == upstream.TCPEstablished && (sshd || sock.Ancestor):
			e.Sessions = append(e.Sessions, sock)
		}
	}
	for _, l := range [][]Socket{e.SSHD, e.Sessions, e.Unowned} {
		slices.SortFunc(l, func(a, b Socket) int { return strings.Compare(a.String(), b.String()) })
	}
	return e, nil
}

// Refusal is why --restrict must not run, nil when it may.
func (e Exposure) Refusal() error {
	var why []string
	for _, s := range e.SSHD {
		why = append(why, fmt.Sprintf("an SSH server listens on %s: new SSH sessions from outside Cloudflare would be dropped", s))
	}
	for _, s := range e.Sessions {
		who := "an SSH session"
		if s.Ancestor {
			who = "the session this command runs in"
		}
		why = append(why, fmt.Sprintf("%s came in on %s: it would stay up, but could not be opened again from there", who, s))
	}
	for _, s := range e.Unowned {
		if len(s.Holders) > 0 {
			why = append(why, fmt.Sprintf("the listener on %s is socket-activated (systemd holds it): it may be ssh.socket", s))
			continue
		}
		why = append(why, fmt.Sprintf("no process visible here holds the listener on %s (another PID namespace, or /proc mounted with hidepid): it may be an SSH server", s.Local))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: --restrict would close a port SSH uses:\n  %s\nRestrict other ports (--ports), or move SSH to a port that is not restricted", ErrRefused, strings.Join(why, "\n  "))
}

// ancestry returns pid and its ancestors up to PID 1.
func ancestry(proc string, pid int) (map[int]bool, error) {
	out := map[int]bool{}
	for pid > 0 && !out[pid] {
		out[pid] = true
		b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
		if err != nil {
			return nil, err
		}
		// "PID (comm) S PPID …": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		f := bytes.Fields(b[i+1:])
		if i < 0 || len(f) < 2 {
			return nil, fmt.Errorf("%s/%d/stat: unexpected %q", proc, pid, b)
		}
		ppid, err := strconv.Atoi(string(f[1]))
		if err != nil {
			return nil, fmt.Errorf("%s/%d/stat: parent %q: %w", proc, pid, f[1], err)
		}
		pid = ppid
	}
	return out, nil
}

// socketHolders maps the inodes of wanted to the processes whose file
// descriptors point at them. A process that ends meanwhile is skipped. An
// ancestor of the caller (but PID 1) whose descriptors cannot be read is
// an error: it may hold the caller's session. Another such process is
// skipped: a listener it holds shows as held by nobody, which refuses
// anyway, and an established connection it holds survives the ESTABLISHED
// rule.
func socketHolders(proc string, wanted map[uint64]upstream.TCPSocket, ancestors map[int]bool) (map[uint64][]Holder, error) {
	out := map[uint64][]Holder{}
	if len(wanted) == 0 {
		return out, nil
	}
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, err
	}
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(proc, d.Name(), "fd")
		mustSee := ancestors[pid] && pid != 1
		fds, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // ended
		}
		if err != nil {
			if mustSee {
				return nil, fmt.Errorf("read %s: %w", dir, err)
			}
			continue
		}
		var comm string
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err != nil {
				if mustSee && !errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, fd.Name()), err)
				}
				continue // closed meanwhile
			}
			s, ok := strings.CutPrefix(link, "socket:[")
			if !ok {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
			if _, want := wanted[ino]; err != nil || !want {
				continue
			}
			if comm == "" {
				b, _ := os.ReadFile(filepath.Join(proc, d.Name(), "comm"))
				comm = strings.TrimSpace(string(b))
			}
			if !slices.ContainsFunc(out[ino], func(h Holder) bool { return h.PID == pid }) {
				out[ino] = append(out[ino], Holder{PID: pid, Comm: comm})
			}
		}
	}
	return out, nil
}
