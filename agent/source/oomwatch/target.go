package oomwatch

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
)

// DefaultRoot is where cgroup file systems are mounted.
const DefaultRoot = "/sys/fs/cgroup"

// Target is one cgroup whose OOM kills are counted.
type Target struct {
	Name   string // what the user called it: a unit name or "pid N"
	Cgroup string // the cgroup directory
	File   string // memory.events (v2) or memory.oom_control (v1)
}

// unified reports whether root is a cgroup v2 only (unified) mount.
func unified(root string) bool {
	_, err := os.Stat(filepath.Join(root, "cgroup.controllers"))
	return err == nil
}

// ForCgroup returns the Target of the cgroup at rel (e.g.
// "/system.slice/nginx.service") under root: v2 when root is a unified
// mount, else the v1 memory hierarchy at root/memory.
func ForCgroup(root, name, rel string) Target {
	rel = path.Clean("/" + rel)
	if unified(root) {
		dir := filepath.Join(root, rel)
		return Target{Name: name, Cgroup: dir, File: filepath.Join(dir, "memory.events")}
	}
	dir := filepath.Join(root, "memory", rel)
	return Target{Name: name, Cgroup: dir, File: filepath.Join(dir, "memory.oom_control")}
}

// ForUnit returns the Target of a systemd service (e.g.
// "php8.2-fpm.service"), which systemd puts in system.slice. The file
// need not exist yet: a stopped service is watched from when it starts.
func ForUnit(root, unit string) Target {
	return ForCgroup(root, unit, "/system.slice/"+unit)
}

// ForPID returns the Target of the memory cgroup a running process is in,
// read from procRoot/PID/cgroup (procRoot is normally "/proc").
func ForPID(root, procRoot string, pid int) (Target, error) {
	p := filepath.Join(procRoot, strconv.Itoa(pid), "cgroup")
	b, err := os.ReadFile(p)
	if err != nil {
		return Target{}, fmt.Errorf("read %s: %w", p, err)
	}
	v1, v2 := ParseProcCgroup(b)
	name := "pid " + strconv.Itoa(pid)
	switch {
	case unified(root) && v2 != "":
		dir := filepath.Join(root, path.Clean(v2))
		return Target{Name: name, Cgroup: dir, File: filepath.Join(dir, "memory.events")}, nil
	case v1 != "":
		dir := filepath.Join(root, "memory", path.Clean(v1))
		return Target{Name: name, Cgroup: dir, File: filepath.Join(dir, "memory.oom_control")}, nil
	}
	return Target{}, fmt.Errorf("%s: no memory cgroup for pid %d", p, pid)
}
