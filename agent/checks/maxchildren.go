package checks

import (
	"fmt"
	"strings"
)

// DefaultWorkerBytes is the per-worker memory assumed when neither a measured
// RSS nor a memory_limit is known.
const DefaultWorkerBytes = 64 << 20

// Pool is what the max_children check needs of a php-fpm pool.
type Pool struct {
	Name        string `json:"name"`
	File        string `json:"file"`
	MaxChildren int    `json:"max_children"`
	MemoryLimit int64  `json:"memory_limit,omitempty"` // bytes; 0 unknown, -1 unlimited
}

// Memory is the host's memory and the measured php-fpm workers.
type Memory struct {
	Total, Available uint64 // bytes (mem.VirtualMemory)
	WorkerRSS        uint64 // average RSS of running php-fpm workers; 0 when none were measured
	Workers          int    // how many were measured
}

// MaxChildrenCheck estimates the memory all pools need at pm.max_children:
// per worker the measured average RSS, else the pool's memory_limit, else
// 64 MiB. Above total memory it fails (the OOM killer will come under load),
// above 80 % it warns. No pools skips.
func MaxChildrenCheck(pools []Pool, m Memory) Check {
	c := newCheck("php_fpm.max_children")
	if len(pools) == 0 {
		return Skipped(c.ID, "no php-fpm pool configuration found")
	}
	if m.Total == 0 {
		return Skipped(c.ID, "total memory unknown")
	}
	var need uint64
	var lines []string
	rows := make([]map[string]any, 0, len(pools))
	for _, p := range pools {
		per, basis := uint64(DefaultWorkerBytes), "assumed 64 MiB"
		switch {
		case m.WorkerRSS > 0:
			per, basis = m.WorkerRSS, fmt.Sprintf("measured RSS of %d workers", m.Workers)
		case p.MemoryLimit > 0:
			per, basis = uint64(p.MemoryLimit), "memory_limit"
		}
		n := uint64(max(p.MaxChildren, 0)) * per
		need += n
		lines = append(lines, fmt.Sprintf("%s: %d × %s", p.Name, p.MaxChildren, mib(per)))
		rows = append(rows, map[string]any{"name": p.Name, "file": p.File, "max_children": p.MaxChildren,
			"worker_bytes": per, "basis": basis, "bytes": n})
	}
	c.Details["pools"] = rows
	c.Details["needed_bytes"] = need
	c.Details["total_bytes"] = m.Total
	c.Details["available_bytes"] = m.Available
	pct := float64(need) * 100 / float64(m.Total)
	what := fmt.Sprintf("pm.max_children needs %s (%s) = %.0f%% of %s memory", mib(need), strings.Join(lines, ", "), pct, mib(m.Total))
	switch {
	case need > m.Total:
		c.Status = Fail
		c.Summary = what + ": under load the OOM killer will kill workers (502)"
	case pct > 80:
		c.Status = Warn
		c.Summary = what + ": little is left for the rest of the host"
	default:
		c.Status = Pass
		c.Summary = what
		return c
	}
	for _, p := range pools {
		per := uint64(DefaultWorkerBytes)
		if m.WorkerRSS > 0 {
			per = m.WorkerRSS
		} else if p.MemoryLimit > 0 {
			per = uint64(p.MemoryLimit)
		}
		share := uint64(float64(m.Total) * 0.7 / float64(len(pools)))
		c.Fix = append(c.Fix, fmt.Sprintf("sed -i 's/^pm.max_children.*/pm.max_children = %d/' %s", max(1, share/per), p.File))
	}
	c.Fix = append(c.Fix, "systemctl reload 'php*-fpm'")
	return c
}

func mib(b uint64) string {
	return fmt.Sprintf("%d MiB", b>>20)
}
