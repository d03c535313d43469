package oomwatch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// files is a fake file system for the counters.
type files struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *files) set(p, s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s == "" {
		delete(f.m, p)
		return
	}
	f.m[p] = s
}

func (f *files) read(p string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.m[p]
	if !ok {
		return nil, os.ErrNotExist
	}
	return []byte(s), nil
}

func TestPoll(t *testing.T) {
	fs := &files{m: map[string]string{
		"/fpm/memory.events":   "oom 1\noom_kill 1\n",
		"/nginx/memory.events": "oom_kill 0\n",
	}}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	w := New([]Target{
		{Name: "php8.2-fpm.service", Cgroup: "/fpm", File: "/fpm/memory.events"},
		{Name: "nginx.service", Cgroup: "/nginx", File: "/nginx/memory.events"},
		{Name: "apache2.service", Cgroup: "/apache", File: "/apache/memory.oom_control"},
	}, time.Second)
	w.read, w.now = fs.read, func() time.Time { return at }
	w.state = make([]counter, 3)
	// The first poll sets the baselines at Run's start.
	for i := range w.targets {
		if n, err := w.value(i); err == nil {
			w.state[i] = counter{valid: true, n: n}
		}
	}
	steps := []struct {
		name string
		set  map[string]string
		want []Event
	}{
		{name: "no change", want: nil},
		{name: "fpm +2", set: map[string]string{"/fpm/memory.events": "oom_kill 3\n"},
			want: []Event{{Name: "php8.2-fpm.service", Cgroup: "/fpm", Delta: 2, Total: 3, Time: at}}},
		{name: "apache appears with a kill", set: map[string]string{"/apache/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"},
			want: []Event{{Name: "apache2.service", Cgroup: "/apache", Delta: 1, Total: 1, Time: at}}},
		{name: "fpm recreated: counter went down, counted from zero", set: map[string]string{"/fpm/memory.events": "oom_kill 1\n"},
			want: []Event{{Name: "php8.2-fpm.service", Cgroup: "/fpm", Delta: 1, Total: 1, Time: at}}},
		{name: "fpm goes", set: map[string]string{"/fpm/memory.events": ""}},
		{name: "fpm back", set: map[string]string{"/fpm/memory.events": "oom_kill 2\n"},
			want: []Event{{Name: "php8.2-fpm.service", Cgroup: "/fpm", Delta: 2, Total: 2, Time: at}}},
		{name: "unparsable is like missing", set: map[string]string{"/nginx/memory.events": "garbage"}},
		{name: "nginx parses again", set: map[string]string{"/nginx/memory.events": "oom_kill 4\n"},
			want: []Event{{Name: "nginx.service", Cgroup: "/nginx", Delta: 4, Total: 4, Time: at}}},
	}
	for _, s := range steps {
		for p, v := range s.set {
			fs.set(p, v)
		}
		got := w.poll()
		if len(got) != len(s.want) {
			t.Fatalf("%s: events %+v; want %+v", s.name, got, s.want)
		}
		for i := range got {
			if got[i] != s.want[i] {
				t.Fatalf("%s: event %+v; want %+v", s.name, got[i], s.want[i])
			}
		}
	}
}

func TestRunSendsAndStops(t *testing.T) {
	fs := &files{m: map[string]string{"/fpm/memory.events": "oom_kill 7\n"}}
	w := New([]Target{{Name: "fpm", Cgroup: "/fpm", File: "/fpm/memory.events"}}, 5*time.Millisecond)
	w.read = fs.read
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Event)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	time.Sleep(20 * time.Millisecond) // let Run take its baseline of 7
	fs.set("/fpm/memory.events", "oom_kill 8\n")
	select {
	case ev := <-out:
		if ev.Delta != 1 || ev.Total != 8 || ev.Name != "fpm" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	fs.set("/fpm/memory.events", "oom_kill 9\n") // an event nobody reads
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

func TestTargets(t *testing.T) {
	v1 := t.TempDir() // hybrid/v1 layout: no cgroup.controllers at the root
	v2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(v2, "cgroup.controllers"), []byte("cpu memory io\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := ForUnit(v1, "nginx.service"), (Target{Name: "nginx.service", Cgroup: v1 + "/memory/system.slice/nginx.service", File: v1 + "/memory/system.slice/nginx.service/memory.oom_control"}); got != want {
		t.Fatalf("v1 ForUnit = %+v; want %+v", got, want)
	}
	if got, want := ForUnit(v2, "nginx.service"), (Target{Name: "nginx.service", Cgroup: v2 + "/system.slice/nginx.service", File: v2 + "/system.slice/nginx.service/memory.events"}); got != want {
		t.Fatalf("v2 ForUnit = %+v; want %+v", got, want)
	}
	if got := ForCgroup(v1, "x", "../../etc"); got.Cgroup != v1+"/memory/etc" {
		t.Fatalf("ForCgroup escapes the root: %+v", got)
	}
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "4121"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "4121", "cgroup"), []byte("12:memory:/system.slice/php8.2-fpm.service\n0::/system.slice/php8.2-fpm.service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ForPID(v1, proc, 4121)
	if err != nil || got.File != v1+"/memory/system.slice/php8.2-fpm.service/memory.oom_control" || got.Name != "pid 4121" {
		t.Fatalf("v1 ForPID = %+v, %v", got, err)
	}
	got, err = ForPID(v2, proc, 4121)
	if err != nil || got.File != v2+"/system.slice/php8.2-fpm.service/memory.events" {
		t.Fatalf("v2 ForPID = %+v, %v", got, err)
	}
	if _, err := ForPID(v1, proc, 1); err == nil {
		t.Fatal("ForPID of a missing process: no error")
	}
}
