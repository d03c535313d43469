package audit_test

// --restrict and the SSH sessions it must never cut, in the network
// namespaces of the audit lab (newLab): a TCP listener in "origin" and a
// client in "outside" stand in for sshd and an admin's session. The audit
// runs with SSH_CONNECTION unset, as under sudo.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
	"golang.org/x/sys/unix"
)

// envEchoHelper makes the test binary an echo server on the address it
// holds (see TestMain): a stand-in sshd in its own process.
const envEchoHelper = "ORIGIN_AGENT_TEST_ECHO"

func TestMain(m *testing.M) {
	if addr := os.Getenv(envEchoHelper); addr != "" {
		echoServer(addr)
		return
	}
	os.Exit(m.Run())
}

func echoServer(addr string) {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		go io.Copy(c, c)
	}
}

// inNetns runs fn on a thread that is in network namespace ns, so that the
// sockets fn makes belong to it (they stay there after the thread left).
func inNetns[T any](t *testing.T, ns string, fn func() (T, error)) T {
	t.Helper()
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", ns, err)
	}
	v, fnErr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with this goroutine: it must
		// not run other goroutines in the wrong namespace.
		t.Fatalf("setns back: %v", err)
	}
	runtime.UnlockOSThread()
	if fnErr != nil {
		t.Fatal(fnErr)
	}
	return v
}

// session is an established connection to an echo server.
type session struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, ns, addr string) (*session, error) {
	t.Helper()
	var err error
	c := inNetns(t, ns, func() (net.Conn, error) {
		c, e := net.DialTimeout("tcp4", addr, 3*time.Second)
		err = e
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &session{c: c, r: bufio.NewReader(c)}, nil
}

// flows reports whether a line sent comes back within 3 s.
func (s *session) flows(msg string) error {
	s.c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(s.c, msg+"\n"); err != nil {
		return err
	}
	got, err := s.r.ReadString('\n')
	if err != nil {
		return err
	}
	if got != msg+"\n" {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

// startEcho runs the test binary, as file name, as an echo server on addr
// in the origin namespace: a process of its own, not an ancestor of the
// audits the test runs.
func startEcho(t *testing.T, l *lab, name, addr string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.origin, bin)
	cmd.Env = append(os.Environ(), envEchoHelper+"="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("echo server %s: %q %v", name, line, err)
	}
}

// TestRestrictKeepsSSHSessions: with SSH_CONNECTION unset, --restrict
// refuses when the session it runs in, or an SSH server, uses a restricted
// port, and an established connection on a restricted port survives an
// --apply --restrict that goes through (data still flows), while new
// connections from outside Cloudflare are dropped.
func TestRestrictKeepsSSHSessions(t *testing.T) {
	testenv.Require(t, labNeeds()...)
	l := newLab(t)
	noSSH := []string{"-u", "SSH_CONNECTION", "PATH=" + os.Getenv("PATH")}
	before := l.save()

	t.Run("the caller's own session", func(t *testing.T) {
		l.t = t
		// This test process holds the server side of the session, as
		// sshd holds it for the shell the admin types in; the audit runs
		// under it (test → ip netns exec → env → origin-agent).
		ln := inNetns(t, l.origin, func() (net.Listener, error) { return net.Listen("tcp4", "0.0.0.0:8443") })
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go io.Copy(c, c)
			}
		}()
		s, err := dial(t, l.outside, "198.51.100.1:8443")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.flows("before"); err != nil {
			t.Fatal(err)
		}
		_, code, stderr := l.audit(noSSH, "--ports", "80,443,8443", "--apply", "--restrict", "--yes")
		if code != 2 || !strings.Contains(stderr, "the session this command runs in came in on 198.51.100.1:8443 from 198.51.100.10:") {
			t.Errorf("--restrict of the session's port: exit %d, %s", code, stderr)
		}
		if after := l.save(); after != before {
			t.Errorf("a refused --restrict changed the firewall:\n%s", after)
		}
		if err := s.flows("after"); err != nil {
			t.Errorf("the session: %v", err)
		}
	})

	t.Run("sshd listens on a restricted port", func(t *testing.T) {
		l.t = t
		startEcho(t, l, "sshd", "0.0.0.0:2222")
		_, code, stderr := l.audit(noSSH, "--ports", "80,443,2222", "--apply", "--restrict", "--yes")
		if code != 2 || !strings.Contains(stderr, "an SSH server listens on 0.0.0.0:2222 (sshd[") {
			t.Errorf("--restrict of sshd's port: exit %d, %s", code, stderr)
		}
		if after := l.save(); after != before {
			t.Errorf("a refused --restrict changed the firewall:\n%s", after)
		}
	})

	t.Run("an established session survives", func(t *testing.T) {
		l.t = t
		startEcho(t, l, "longpoll", "0.0.0.0:8444")
		s, err := dial(t, l.outside, "198.51.100.1:8444")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.flows("before"); err != nil {
			t.Fatal(err)
		}
		_, code, stderr := l.audit(noSSH, "--ports", "80,443,8444", "--apply", "--restrict", "--yes")
		if code == 2 {
			t.Fatalf("--restrict refused: %s", stderr)
		}
		save := l.save()
		if !strings.Contains(save, "-A ORIGIN-AGENT-CF -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A ORIGIN-AGENT-CF -s ") {
			t.Errorf("the chain does not keep established connections first:\n%s", save)
		}
		if err := s.flows("after --restrict"); err != nil {
			t.Errorf("the established session was cut: %v", err)
		}
		if _, err := dial(t, l.outside, "198.51.100.1:8444"); err == nil {
			t.Error("a new connection from outside Cloudflare got through --restrict")
		} else if !errors.Is(err, os.ErrDeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
			t.Logf("new connection from outside: %v", err)
		}
		if _, err := dial(t, l.edge, "173.245.48.1:8444"); err != nil {
			t.Errorf("Cloudflare cannot connect after --restrict: %v", err)
		}
		l.audit([]string{"PATH=" + os.Getenv("PATH")}, "--revert")
		if after := l.save(); after != before {
			t.Errorf("--revert left:\n%s\nwant:\n%s", after, before)
		}
		if err := s.flows("after --revert"); err != nil {
			t.Errorf("the session after --revert: %v", err)
		}
	})
}
