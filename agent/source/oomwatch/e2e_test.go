package oomwatch

// End-to-end: a memory cgroup made by the test really OOM-kills a process
// that exceeds its limit, and the Watcher reports it. Needs root and a
// writable memory cgroup; skips otherwise, except under
// ORIGIN_AGENT_E2E=1 where it must run.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestHelperAllocate is the process the cgroup kills: it touches 200 MB.
func TestHelperAllocate(t *testing.T) {
	if os.Getenv("ORIGIN_AGENT_OOM_HELPER") != "1" {
		t.Skip("helper process for TestOOMKillSeen")
	}
	var keep [][]byte
	for range 200 {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 1 // touch every page: untouched pages cost nothing
		}
		keep = append(keep, b)
	}
	fmt.Println("allocated", len(keep), "MiB: the limit did not hold")
}

func TestOOMKillSeen(t *testing.T) {
	testenv.Require(t, testenv.Root()) // to create a memory cgroup
	name := fmt.Sprintf("oomwatch-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	tg := ForCgroup(DefaultRoot, "test", name)
	if err := os.Mkdir(tg.Cgroup, 0o755); err != nil {
		testenv.Require(t, testenv.Need{What: "a writable memory cgroup (" + err.Error() + ")", Hint: "mount the memory controller read-write"})
	}
	t.Cleanup(func() { removeCgroup(t, tg.Cgroup) })
	limits := [][2]string{{"memory.limit_in_bytes", "33554432"}, {"memory.memsw.limit_in_bytes", "33554432"}}
	if filepath.Base(tg.File) == "memory.events" {
		limits = [][2]string{{"memory.max", "33554432"}, {"memory.swap.max", "0"}}
	}
	for i, l := range limits {
		err := os.WriteFile(filepath.Join(tg.Cgroup, l[0]), []byte(l[1]), 0)
		if err != nil && i == 0 {
			t.Fatalf("set %s: %v", l[0], err)
		} // the swap limit exists only with swap accounting
	}

	w := New([]Target{tg}, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Event, 1)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	time.Sleep(100 * time.Millisecond) // Run takes its baseline first

	// The shell joins the cgroup, then becomes the allocating process.
	cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" -test.run='^TestHelperAllocate$'`,
		"sh", tg.Cgroup, os.Args[0])
	cmd.Env = append(os.Environ(), "ORIGIN_AGENT_OOM_HELPER=1")
	start := time.Now()
	output, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("allocating process ended with %v, not SIGKILL:\n%s", err, output)
	}
	killed := time.Now()
	select {
	case ev := <-out:
		if ev.Delta < 1 || ev.Total < 1 || ev.Cgroup != tg.Cgroup {
			t.Fatalf("event %+v", ev)
		}
		t.Logf("OOM kill reported %v after the process died (%v after start); event %+v",
			time.Since(killed).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), ev)
	case <-time.After(10 * time.Second):
		b, _ := os.ReadFile(tg.File)
		t.Fatalf("no event within 10 s; %s:\n%s", tg.File, b)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

// removeCgroup removes a test cgroup once its processes are gone.
func removeCgroup(t *testing.T, dir string) {
	for i := 0; ; i++ {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		if i == 50 {
			procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			t.Errorf("rmdir %s: %v (procs: %q)", dir, err, procs)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
