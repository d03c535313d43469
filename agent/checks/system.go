package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// The system reads behind the checks. They are small on purpose: everything
// they return is judged by the pure functions of this package.

// ReadListeners parses procRoot/net/tcp and procRoot/net/tcp6 (procRoot is
// "/proc" on a host). A missing tcp6 (IPv6 disabled) is not an error.
// This is far cheaper than gopsutil's net.Connections, which readlinks every
// file descriptor of every process.
func ReadListeners(procRoot string) ([]Socket, error) {
	var out []Socket
	for _, name := range []string{"tcp", "tcp6"} {
		p := filepath.Join(procRoot, "net", name)
		data, err := os.ReadFile(p)
		if err != nil {
			if name == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		socks, err := ParseProcNetTCP(data)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", p, err)
		}
		out = append(out, socks...)
	}
	return out, nil
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
