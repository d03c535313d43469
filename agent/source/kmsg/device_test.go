package kmsg

// Tests against the real /dev/kmsg. They need root (to write the marker
// and, with dmesg_restrict=1, to read) and skip otherwise unless
// ORIGIN_AGENT_E2E=1, where they must run.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// needRoot: these tests write a marker into /dev/kmsg.
func needRoot(t *testing.T) {
	t.Helper()
	testenv.Require(t, testenv.Root())
}

func TestDeviceSeesMarker(t *testing.T) {
	needRoot(t)
	r, err := Open(Options{Log: quietLogger()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make(chan Record, 16)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, out) }()

	marker := fmt.Sprintf("origin-agent kmsg test marker %d-%d", os.Getpid(), time.Now().UnixNano())
	// The newline matters: the kernel keeps a record without one open
	// for continuation, invisible to readers until the next printk.
	if err := os.WriteFile("/dev/kmsg", []byte("<6>"+marker+"\n"), 0); err != nil {
		t.Fatalf("write marker: %v", err)
	}
	written := time.Now()
	for {
		select {
		case rec := <-out:
			if !bytes.Contains(rec.Line, []byte(marker)) {
				continue
			}
			if d := rec.Time.Sub(written); d < -3*time.Second || d > 3*time.Second {
				t.Fatalf("record time %v is %v from the write at %v", rec.Time, d, written)
			}
			h, text, err := ParseRecord(rec.Line)
			if err != nil || h.Seq != rec.Seq || string(text) != marker {
				t.Fatalf("line %q: %+v %q %v", rec.Line, h, text, err)
			}
			t.Logf("marker seq %d at %v (%v after the write)", rec.Seq, rec.Time, rec.Time.Sub(written))
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Run after cancel = %v", err)
			}
			return
		case err := <-done:
			t.Fatalf("Run returned before the marker: %v", err)
		}
	}
}

// runDevice opens the real /dev/kmsg with o and runs a Reader on it for at
// most 10 s; it returns the records and the run's context.
func runDevice(t *testing.T, o Options) (<-chan Record, context.Context) {
	t.Helper()
	r, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	out := make(chan Record, 16)
	go r.Run(ctx, out)
	return out, ctx
}

func TestDeviceStartBufferReadsOldRecords(t *testing.T) {
	needRoot(t)
	out, ctx := runDevice(t, Options{Start: StartBuffer, Log: quietLogger()})
	select {
	case rec := <-out:
		if _, _, err := ParseRecord(rec.Line); err != nil || rec.Time.After(time.Now()) {
			t.Fatalf("first buffered record %q at %v: %v", rec.Line, rec.Time, err)
		}
	case <-ctx.Done():
		t.Fatal("no record from the start of the buffer")
	}
}

const helperEnv = "ORIGIN_AGENT_KMSG_HELPER"

// TestHelperOpen is run by TestNotPermitted as an unprivileged user; it
// prints what Open returned.
func TestHelperOpen(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestNotPermitted")
	}
	r, err := Open(Options{})
	if err == nil {
		r.Close()
		fmt.Println("RESULT: opened")
		return
	}
	fmt.Printf("RESULT: notpermitted=%v errpermission=%v msg=%s\n",
		errors.Is(err, ErrNotPermitted), errors.Is(err, os.ErrPermission), err)
}

func TestNotPermitted(t *testing.T) {
	// Without dmesg_restrict any user may read /dev/kmsg: nothing to refuse.
	testenv.Require(t, testenv.Root(), testenv.Sysctl("kernel.dmesg_restrict", "1"))
	// The test binary lives in a root-only directory: copy it where
	// nobody (65534) can run it.
	dir, err := os.MkdirTemp("", "kmsg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kmsg.test")
	copyFile(t, os.Args[0], bin)
	cmd := exec.Command(bin, "-test.run=^TestHelperOpen$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("RESULT: notpermitted=true errpermission=true msg=")) ||
		!bytes.Contains(out, []byte("CAP_SYSLOG")) {
		t.Fatalf("helper output:\n%s", out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDeviceStartRecentReplaysMarker: a record written before Open is read
// with StartRecent, and nothing from before the window is.
func TestDeviceStartRecentReplaysMarker(t *testing.T) {
	needRoot(t)
	marker := fmt.Sprintf("origin-agent kmsg recent marker %d-%d", os.Getpid(), time.Now().UnixNano())
	if err := os.WriteFile("/dev/kmsg", []byte("<6>"+marker+"\n"), 0); err != nil {
		t.Fatalf("write marker: %v", err)
	}
	const recent = 30 * time.Second
	opened := time.Now()
	out, ctx := runDevice(t, Options{Start: StartRecent, Recent: recent, Log: quietLogger()})
	for {
		select {
		case rec := <-out:
			if rec.CaughtUp {
				t.Fatal("caught up with the buffer without the marker written before Open")
			}
			// The kernel's clock and the wall clock may disagree by a second.
			if rec.Time.Before(opened.Add(-recent - 2*time.Second)) {
				t.Fatalf("record from %v, before the %v window: %q", rec.Time, recent, rec.Line)
			}
			if bytes.Contains(rec.Line, []byte(marker)) {
				return
			}
		case <-ctx.Done():
			t.Fatal("the marker written before Open was not replayed")
		}
	}
}
