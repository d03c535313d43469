package main

// Process and environment helpers of the `origin-agent run` end-to-end
// tests (run_e2e_test.go): every process is started by the test, recorded
// by PID and stopped by PID in t.Cleanup.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// requireE2E skips the test unless it runs as root with the real servers
// installed; under ORIGIN_AGENT_E2E=1 (CI) a missing piece is a failure.
func requireE2E(t *testing.T) {
	t.Helper()
	testenv.Require(t, append(realServers(), testenv.File("/usr/lib/apache2/modules/mod_proxy_fcgi.so", "apache2"), testenv.Go())...)
}

// realServers is what the tests that run the real nginx, php-fpm and
// apache (and curl against them) need.
func realServers() []testenv.Need {
	return []testenv.Need{testenv.Root(), testenv.Command("nginx", "nginx"), testenv.Command("php-fpm8.2", "php8.2-fpm"),
		testenv.Command("apache2", "apache2"), testenv.Command("curl", "curl")}
}

// buildAgent builds the real binary into a directory every user may read
// (some tests run it as nobody).
func buildAgent(t *testing.T) string {
	t.Helper()
	dir := worldDir(t, "bin")
	bin := filepath.Join(dir, "origin-agent")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// worldDir is a fresh directory that every user can enter (t.TempDir is
// 0700: nginx, php-fpm workers and the agent run as nobody could not).
func worldDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "origin-agent-e2e-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes text to dir/name (creating parents) and returns the path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// freePort returns the first port at or above from (inside this test's
// range 20000-20999) that nobody listens on, on any address.
func freePort(t *testing.T, from int) int {
	t.Helper()
	for p := from; p < 21000; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatalf("no free port in %d..20999", from)
	return 0
}

// proc is a process the test started. Its output goes to a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, valid once done is closed
}

// startProc starts cmd in its own process group and registers a cleanup
// that stops it by PID: SIGTERM, then SIGKILL to its group after 5 s.
func startProc(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(syscall.SIGTERM, 5*time.Second) })
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the process to end.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// stop sends sig and, when the process is still there after grace, kills
// its process group (only processes this test started are in it).
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	if p.wait(grace) {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	p.wait(5 * time.Second)
}

// exitCode is the exit status once the process ended, -1 for a signal.
func (p *proc) exitCode() int {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}

// lockedBuffer collects a process's stderr safely.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually polls cond every 20 ms until it holds or d passed.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
