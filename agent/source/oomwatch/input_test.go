package oomwatch

import (
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

func TestInput(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	in, ok := Input(Event{Name: "php8.2-fpm.service", Cgroup: "/sys/fs/cgroup/system.slice/php8.2-fpm.service", Delta: 2, Total: 5, Time: at})
	if !ok || in.Type != parsers.TypeKernel || in.Event.Signal != parsers.SigOOMKill || string(in.Event.Process) != "php8.2-fpm.service" || !in.Event.Time.Equal(at) {
		t.Fatalf("%v %+v", ok, in)
	}
	if in.Path != "/sys/fs/cgroup/system.slice/php8.2-fpm.service" || !strings.Contains(string(in.Text), "oom_kill counter rose by 2 to 5") {
		t.Errorf("evidence: %s %q", in.Path, in.Text)
	}
}
