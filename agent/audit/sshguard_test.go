package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/firewall"
)

// fakeProc builds a /proc tree: processes with a parent, a name and socket
// descriptors, and /proc/net/tcp lines.
type fakeProc struct {
	t   *testing.T
	dir string
	tcp []string
}

func newFakeProc(t *testing.T) *fakeProc {
	return &fakeProc{t: t, dir: t.TempDir()}
}

// proc adds process pid named comm, child of ppid, holding socket inodes.
func (p *fakeProc) proc(pid, ppid int, comm string, inodes ...int) {
	d := filepath.Join(p.dir, strconv.Itoa(pid))
	os.MkdirAll(filepath.Join(d, "fd"), 0o755)
	os.WriteFile(filepath.Join(d, "stat"), []byte(fmt.Sprintf("%d (%s) S %d %d 0 0 -1 4194560\n", pid, comm, ppid, pid)), 0o644)
	os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644)
	os.Symlink("/dev/null", filepath.Join(d, "fd", "0"))
	for i, ino := range inodes {
		if err := os.Symlink(fmt.Sprintf("socket:[%d]", ino), filepath.Join(d, "fd", strconv.Itoa(i+3))); err != nil {
			p.t.Fatal(err)
		}
	}
}

// sock adds a /proc/net/tcp line: local and remote "hexaddr:hexport".
func (p *fakeProc) sock(local, remote, state string, inode int) {
	p.tcp = append(p.tcp, fmt.Sprintf("%4d: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0",
		len(p.tcp), local, remote, state, inode))
}

func (p *fakeProc) write() string {
	os.MkdirAll(filepath.Join(p.dir, "net"), 0o755)
	hdr := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	os.WriteFile(filepath.Join(p.dir, "net", "tcp"), []byte(hdr+strings.Join(p.tcp, "\n")+"\n"), 0o644)
	return p.dir
}

const (
	any22   = "00000000:0016"
	any443  = "00000000:01BB"
	any80   = "00000000:0050"
	none    = "00000000:0000"
	orig443 = "016433C6:01BB" // 198.51.100.1:443
	admin   = "0A6433C6:C350" // 198.51.100.10:50000
)

// TestExposure: what refuses --restrict, from the kernel's view alone.
func TestExposure(t *testing.T) {
	// The caller: origin-agent[900] ← sudo[800] ← bash[710] ← session[700] ← 1.
	base := func(sessionComm string, sessionPort string) *fakeProc {
		p := newFakeProc(t)
		p.proc(1, 0, "systemd")
		p.proc(500, 1, "sshd", 10)
		p.proc(600, 1, "nginx", 11, 12)
		p.proc(700, 500, sessionComm, 20)
		p.proc(710, 700, "bash")
		p.proc(800, 710, "sudo")
		p.proc(900, 800, "origin-agent")
		p.sock(any22, none, "0A", 10)
		p.sock(any80, none, "0A", 11)
		p.sock(any443, none, "0A", 12)
		p.sock(sessionPort, admin, "01", 20)
		return p
	}
	tests := []struct {
		name  string
		proc  func() *fakeProc
		ports []uint16
		want  string // "" allowed; else a piece of the refusal
	}{
		{"ssh on 22, web ports restricted", func() *fakeProc { return base("sshd-session", "016433C6:0016") }, []uint16{80, 443}, ""},
		{"sshd's port restricted", func() *fakeProc { return base("sshd-session", "016433C6:0016") }, []uint16{22, 443}, "an SSH server listens on 0.0.0.0:22 (sshd[500])"},
		{"the caller's session on a restricted port, not named sshd", func() *fakeProc { return base("dropbearish", orig443) }, []uint16{80, 443},
			"the session this command runs in came in on 198.51.100.1:443 from 198.51.100.10:50000 (dropbearish[700])"},
		{"someone's ssh session (tmux: not an ancestor) on a restricted port", func() *fakeProc {
			p := base("sshd-session", "016433C6:0016")
			p.proc(720, 500, "sshd-session", 21)
			p.sock(orig443, admin, "01", 21)
			return p
		}, []uint16{80, 443}, "an SSH session came in on 198.51.100.1:443"},
		{"a visitor's connection on a restricted port stays (ESTABLISHED rule)", func() *fakeProc {
			p := base("sshd-session", "016433C6:0016")
			p.proc(601, 600, "nginx", 30)
			p.sock(orig443, admin, "01", 30)
			return p
		}, []uint16{80, 443}, ""},
		{"a socket-activated listener (ssh.socket)", func() *fakeProc {
			p := base("sshd-session", "016433C6:0016")
			p.proc(1, 0, "systemd", 41)
			p.sock("00000000:20FB", none, "0A", 41) // :8443
			return p
		}, []uint16{80, 443, 8443}, "the listener on 0.0.0.0:8443 (systemd[1]) is socket-activated"},
		{"a listener nobody visible holds", func() *fakeProc {
			p := base("sshd-session", "016433C6:0016")
			p.sock("00000000:20FB", none, "0A", 40) // :8443
			return p
		}, []uint16{80, 443, 8443}, "no process visible here holds the listener on 0.0.0.0:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := tt.proc().write()
			e, err := ReadExposure(proc, 900, tt.ports)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Refusal()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("refusal %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestExposureCannotTell: without the kernel's view, no --restrict.
func TestExposureCannotTell(t *testing.T) {
	p := newFakeProc(t)
	p.proc(1, 0, "systemd")
	p.proc(900, 1, "origin-agent")
	p.sock(any443, none, "0A", 12)
	proc := p.write()
	if _, err := ReadExposure(proc, 901, []uint16{443}); !errors.Is(err, ErrCannotTell) {
		t.Errorf("own process not in /proc: %v", err)
	}
	os.Remove(filepath.Join(proc, "net", "tcp"))
	if _, err := ReadExposure(proc, 900, []uint16{443}); !errors.Is(err, ErrCannotTell) {
		t.Errorf("no /proc/net/tcp: %v", err)
	}
}

// TestApplyRestrictRefusesWithoutSSHConnection: Apply itself consults the
// kernel's view, so sudo dropping SSH_CONNECTION does not disarm it.
func TestApplyRestrictRefusesWithoutSSHConnection(t *testing.T) {
	p := newFakeProc(t)
	p.proc(1, 0, "systemd")
	p.proc(500, 1, "sshd", 10)
	p.proc(900, 1, "origin-agent")
	p.sock(any443, none, "0A", 10) // sshd on 443
	proc := p.write()
	called := false
	err := Apply(ApplyOptions{Ports: []uint16{80, 443}, Restrict: true, Yes: true, Proc: proc, PID: 900, Out: &strings.Builder{},
		IPTables: func(firewall.Family) (firewall.IPTables, error) {
			called = true
			return nil, errors.New("no firewall here")
		}})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "SSH server listens on 0.0.0.0:443") {
		t.Errorf("Apply = %v", err)
	}
	if called {
		t.Error("the firewall was touched")
	}
}

// TestExposureUnreadableAncestor: an ancestor of the caller whose
// descriptors cannot be read may hold the caller's session: cannot tell.
// The same for another process is no reason to refuse.
func TestExposureUnreadableAncestor(t *testing.T) {
	for _, c := range []struct {
		pid  int
		want bool
	}{{800, true}, {600, false}} {
		p := newFakeProc(t)
		p.proc(1, 0, "systemd")
		p.proc(600, 1, "nginx", 12)
		p.proc(800, 1, "sudo")
		p.proc(900, 800, "origin-agent")
		p.sock(any443, none, "0A", 12)
		proc := p.write()
		// Not a link: readlink fails as it does on a descriptor it may not see.
		os.WriteFile(filepath.Join(proc, strconv.Itoa(c.pid), "fd", "7"), nil, 0o644)
		_, err := ReadExposure(proc, 900, []uint16{443})
		if got := errors.Is(err, ErrCannotTell); got != c.want {
			t.Errorf("unreadable descriptor of %d: %v, want cannot-tell %v", c.pid, err, c.want)
		}
	}
}
