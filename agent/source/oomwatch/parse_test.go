package oomwatch

import "testing"

func TestParseOOMKill(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    uint64
		ok   bool
	}{
		{name: "v2 memory.events", in: "low 0\nhigh 0\nmax 1742\noom 3\noom_kill 2\noom_group_kill 0\n", n: 2, ok: true},
		{name: "v1 memory.oom_control", in: "oom_kill_disable 0\nunder_oom 0\noom_kill 17\n", n: 17, ok: true},
		{name: "no trailing newline", in: "oom_kill_disable 0\nunder_oom 1\noom_kill 5", n: 5, ok: true},
		{name: "zero", in: "oom_kill 0\n", n: 0, ok: true},
		{name: "group kill is not the counter", in: "oom_group_kill 4\n", ok: false},
		{name: "old v1 kernel without counter", in: "oom_kill_disable 0\nunder_oom 0\n", ok: false},
		{name: "empty", in: "", ok: false},
		{name: "not a number", in: "oom_kill x\n", ok: false},
		{name: "negative", in: "oom_kill -1\n", ok: false},
		{name: "overflow", in: "oom_kill 99999999999999999999\n", ok: false},
		{name: "max", in: "oom_kill 18446744073709551615\n", n: 18446744073709551615, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := ParseOOMKill([]byte(tt.in))
			if n != tt.n || ok != tt.ok {
				t.Fatalf("ParseOOMKill(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.n, tt.ok)
			}
		})
	}
}

func TestParseOOMKillAllocs(t *testing.T) {
	b := []byte("low 0\nhigh 0\nmax 1742\noom 3\noom_kill 2\noom_group_kill 0\n")
	if n := testing.AllocsPerRun(1000, func() { ParseOOMKill(b) }); n != 0 {
		t.Fatalf("%v allocations; want 0", n)
	}
}

func TestParseProcCgroup(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		v1, v2 string
	}{
		{name: "hybrid", in: "12:memory:/system.slice/php8.2-fpm.service\n11:pids:/system.slice/php8.2-fpm.service\n1:name=systemd:/system.slice/php8.2-fpm.service\n0::/system.slice/php8.2-fpm.service\n",
			v1: "/system.slice/php8.2-fpm.service", v2: "/system.slice/php8.2-fpm.service"},
		{name: "unified", in: "0::/system.slice/nginx.service\n", v2: "/system.slice/nginx.service"},
		{name: "joined controllers", in: "4:cpu,memory:/docker/abc\n", v1: "/docker/abc"},
		{name: "memsw is not memory", in: "4:memsw:/x\n", v1: ""},
		{name: "path with colon", in: "0::/user.slice/a:b\n", v2: "/user.slice/a:b"},
		{name: "garbage", in: "nonsense\n:\n1:memory\n", v1: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v1, v2 := ParseProcCgroup([]byte(tt.in))
			if v1 != tt.v1 || v2 != tt.v2 {
				t.Fatalf("ParseProcCgroup = %q, %q; want %q, %q", v1, v2, tt.v1, tt.v2)
			}
		})
	}
}

func BenchmarkParseOOMKill(b *testing.B) {
	in := []byte("low 0\nhigh 0\nmax 1742\noom 3\noom_kill 2\noom_group_kill 0\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		ParseOOMKill(in)
	}
}

func FuzzParseOOMKill(f *testing.F) {
	f.Add([]byte("low 0\nhigh 0\nmax 1742\noom 3\noom_kill 2\noom_group_kill 0\n"))
	f.Add([]byte("oom_kill_disable 0\nunder_oom 0\noom_kill 17\n"))
	f.Add([]byte("12:memory:/system.slice/php8.2-fpm.service\n0::/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := ParseOOMKill(b)
		if !ok && n != 0 {
			t.Fatalf("n = %d with ok false", n)
		}
		v1, v2 := ParseProcCgroup(b)
		if (v1 != "" && v1[0] != '/') || (v2 != "" && v2[0] != '/') {
			t.Fatalf("paths %q %q not absolute", v1, v2)
		}
	})
}
