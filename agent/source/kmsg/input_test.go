package kmsg

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/kernel"
)

// Input hands on kernel signals only, stamped with the record's time, and
// closes Replayed when it converts the CaughtUp record, not before.
func TestInput(t *testing.T) {
	r := newReader("/dev/kmsg", newFake(), Options{Start: StartBuffer, Log: quietLogger()}, fixedClock)
	conv := r.Input(kernel.New(parsers.Options{}))
	at := time.Date(2026, 11, 20, 9, 59, 59, 0, time.UTC)
	oom := Record{Line: []byte("3,812,999000000,-;Out of memory: Killed process 4121 (php-fpm8.2) total-vm:1024kB, anon-rss:512kB"), Seq: 812, Time: at}
	in, ok := conv(oom)
	if !ok || in.Event.Signal != parsers.SigOOMKill || !in.Event.Time.Equal(at) || in.Line != 812 || in.Path != "/dev/kmsg" || in.Type != parsers.TypeKernel {
		t.Fatalf("OOM record: %v %+v", ok, in)
	}
	if _, ok := conv(Record{Line: []byte("6,813,999000001,-;e1000: eth0 NIC Link is Up"), Seq: 813, Time: at}); ok {
		t.Error("a record without a signal was handed on")
	}
	select {
	case <-r.Replayed():
		t.Fatal("Replayed closed before the CaughtUp record")
	default:
	}
	if _, ok := conv(Record{CaughtUp: true}); ok {
		t.Error("CaughtUp was handed on")
	}
	select {
	case <-r.Replayed():
	default:
		t.Fatal("Replayed not closed after the CaughtUp record")
	}
	conv(Record{CaughtUp: true}) // a second one must not panic

	end := newReader("/dev/kmsg", newFake(), Options{Log: quietLogger()}, fixedClock)
	if end.Replayed() != nil {
		t.Error("a reader at StartEnd replays nothing: Replayed must be nil")
	}
}
