// Package host takes a snapshot of the host's memory, swap, load and
// pressure (PSI), attached to findings as context: an OOM kill on a host
// with no free memory and high memory pressure reads differently from one
// in a small cgroup on an idle host.
package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
)

// Snapshot is the host's state at one moment. Pressure fields are absent
// when the kernel has no PSI (CONFIG_PSI off, or psi=0 on the command line).
type Snapshot struct {
	Time time.Time `json:"time"`

	MemTotal       uint64  `json:"mem_total_bytes"`
	MemAvailable   uint64  `json:"mem_available_bytes"`
	MemUsedPercent float64 `json:"mem_used_percent"`

	SwapTotal       uint64  `json:"swap_total_bytes"`
	SwapUsed        uint64  `json:"swap_used_bytes"`
	SwapUsedPercent float64 `json:"swap_used_percent"`

	Load1  float64 `json:"load1"`
	Load5  float64 `json:"load5"`
	Load15 float64 `json:"load15"`

	CPUPressure    *PSI `json:"cpu_pressure,omitempty"`
	MemoryPressure *PSI `json:"memory_pressure,omitempty"`
	IOPressure     *PSI `json:"io_pressure,omitempty"`
}

// Sampler takes Snapshots. The zero value reads the running host.
type Sampler struct {
	// PressureDir is where the PSI files are; default /proc/pressure.
	PressureDir string
}

// Take reads memory, swap and load through gopsutil and PSI directly.
// Missing PSI files leave their fields nil; a PSI file that exists but
// does not parse, or a gopsutil failure, is an error (with whatever could
// be read still in the Snapshot).
func (s Sampler) Take(ctx context.Context) (Snapshot, error) {
	snap := Snapshot{Time: time.Now().Round(0)}
	var errs []error
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("memory: %w", err))
	} else {
		snap.MemTotal, snap.MemAvailable, snap.MemUsedPercent = vm.Total, vm.Available, vm.UsedPercent
	}
	if sw, err := mem.SwapMemoryWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("swap: %w", err))
	} else {
		snap.SwapTotal, snap.SwapUsed, snap.SwapUsedPercent = sw.Total, sw.Used, sw.UsedPercent
	}
	if la, err := load.AvgWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("load: %w", err))
	} else {
		snap.Load1, snap.Load5, snap.Load15 = la.Load1, la.Load5, la.Load15
	}
	dir := s.PressureDir
	if dir == "" {
		dir = "/proc/pressure"
	}
	for _, r := range []struct {
		name string
		dst  **PSI
	}{{"cpu", &snap.CPUPressure}, {"memory", &snap.MemoryPressure}, {"io", &snap.IOPressure}} {
		p, err := readPSI(filepath.Join(dir, r.name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*r.dst = p
	}
	return snap, errors.Join(errs...)
}

// readPSI returns nil, nil when the file does not exist or the kernel
// refuses it (EOPNOTSUPP when PSI is compiled in but disabled).
func readPSI(path string) (*PSI, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.EOPNOTSUPP) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	p, err := ParsePSI(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}
