package host

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func TestTakeWithPSI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cpu", "some avg10=3.28 avg60=2.21 avg300=11.84 total=248162691\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
	write("memory", "some avg10=45.67 avg60=30.10 avg300=9.99 total=9876543210\nfull avg10=40.00 avg60=25.50 avg300=8.00 total=8765432100\n")
	// no io file: its field stays absent
	snap, err := Sampler{PressureDir: dir}.Take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.MemTotal == 0 || snap.MemAvailable > snap.MemTotal || snap.Time.IsZero() {
		t.Fatalf("memory %+v", snap)
	}
	if snap.CPUPressure == nil || snap.CPUPressure.Some.Avg10 != 3.28 || snap.MemoryPressure.Full.Avg60 != 25.5 || snap.IOPressure != nil {
		t.Fatalf("pressure %+v %+v %+v", snap.CPUPressure, snap.MemoryPressure, snap.IOPressure)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"mem_total_bytes":`, `"cpu_pressure":{"some":{"avg10":3.28,`, `"load1":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "io_pressure") {
		t.Errorf("JSON %s has io_pressure without the file", b)
	}
}

func TestTakeWithoutPSI(t *testing.T) {
	snap, err := Sampler{PressureDir: filepath.Join(t.TempDir(), "none")}.Take(context.Background())
	if err != nil {
		t.Fatalf("missing PSI is an error: %v", err)
	}
	if snap.CPUPressure != nil || snap.MemoryPressure != nil || snap.IOPressure != nil {
		t.Fatalf("pressure without files: %+v", snap)
	}
}

func TestTakeBadPSI(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "io"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := Sampler{PressureDir: dir}.Take(context.Background())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "io")) {
		t.Fatalf("Take = %v; want an error naming the io file", err)
	}
	if snap.MemTotal == 0 {
		t.Fatal("a bad PSI file lost the memory figures")
	}
}

func TestTakeRealHost(t *testing.T) {
	testenv.Require(t, testenv.Kernel("/proc/pressure/memory", "boot with psi=1: Debian's kernel has PSI off by default"))
	snap, err := Sampler{}.Take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.MemoryPressure == nil || snap.MemoryPressure.Some == nil {
		t.Fatalf("memory pressure missing: %+v", snap)
	}
}

func BenchmarkTake(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Sampler{}).Take(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
