package checks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// The system reads behind the checks. They are small on purpose: everything
// they return is judged by the pure functions of this package.

// WebServerProcs are the web server processes running, one per name
// (nginx, apache2, httpd), with the lowest pid (the master, normally).
// /proc/PID/comm is readable by any user, so this works unprivileged.
func WebServerProcs(procRoot string) []Proc {
	dirs, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var out []Proc
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, d.Name(), "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(b))
		if name != "nginx" && name != "apache2" && name != "httpd" {
			continue
		}
		i := slices.IndexFunc(out, func(p Proc) bool { return p.Name == name })
		switch {
		case i < 0:
			out = append(out, Proc{PID: int32(pid), Name: name})
		case int32(pid) < out[i].PID:
			out[i].PID = int32(pid)
		}
	}
	return out
}

// SocketOwners finds the processes holding the given socket inodes by
// reading procRoot/PID/fd links, and names them with gopsutil. It stops as
// soon as every inode is found; processes it may not read (not root) are
// skipped, so the map may be partial or empty.
func SocketOwners(ctx context.Context, procRoot string, inodes []uint64) map[uint64]Proc {
	want := map[string]uint64{}
	for _, in := range inodes {
		want[fmt.Sprintf("socket:[%d]", in)] = in
	}
	out := map[uint64]Proc{}
	if len(want) == 0 {
		return out
	}
	dirs, err := os.ReadDir(procRoot)
	if err != nil {
		return out
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || ctx.Err() != nil {
			continue
		}
		fdDir := filepath.Join(procRoot, d.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			in, ok := want[link]
			if !ok {
				continue
			}
			if _, done := out[in]; done {
				continue
			}
			name := ""
			if p, err := process.NewProcessWithContext(ctx, int32(pid)); err == nil {
				name, _ = p.NameWithContext(ctx)
			}
			out[in] = Proc{PID: int32(pid), Name: name}
		}
		if len(out) == len(want) {
			break
		}
	}
	return out
}

// ReadMemory measures total and available memory and the average RSS of
// running php-fpm workers (processes named php-fpm* whose command line is
// "php-fpm: pool …"; the master is not counted).
func ReadMemory(ctx context.Context) (Memory, error) {
	var m Memory
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return m, fmt.Errorf("read memory: %w", err)
	}
	m.Total, m.Available = vm.Total, vm.Available
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return m, nil // memory is known; workers are not
	}
	var sum uint64
	for _, p := range procs {
		name, err := p.NameWithContext(ctx)
		if err != nil || !strings.HasPrefix(name, "php-fpm") {
			continue
		}
		cmd, err := p.CmdlineWithContext(ctx)
		if err != nil || !strings.HasPrefix(cmd, "php-fpm: pool ") {
			continue
		}
		mi, err := p.MemoryInfoWithContext(ctx)
		if err != nil || mi.RSS == 0 {
			continue
		}
		sum += mi.RSS
		m.Workers++
	}
	if m.Workers > 0 {
		m.WorkerRSS = sum / uint64(m.Workers)
	}
	return m, nil
}
