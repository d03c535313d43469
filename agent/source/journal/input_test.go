package journal

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/kernel"
)

func TestInput(t *testing.T) {
	conv := Input(kernel.New(parsers.Options{}))
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	in, ok := conv(Entry{Message: []byte("Out of memory: Killed process 4121 (php-fpm8.2) total-vm:1024kB, anon-rss:512kB"), Priority: 3, Time: at, Monotonic: 999 * time.Second})
	if !ok || in.Type != parsers.TypeKernel || in.Event.Signal != parsers.SigOOMKill || !in.Event.Time.Equal(at) || in.Path != "journal" {
		t.Fatalf("%v %+v", ok, in)
	}
	if _, ok := conv(Entry{Message: []byte("e1000: eth0 NIC Link is Up"), Priority: 6, Time: at}); ok {
		t.Error("an entry without a signal was handed on")
	}
}
