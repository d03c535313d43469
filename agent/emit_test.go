package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

// TestUpdateThrottle: an incident whose counts keep growing yields at most
// one `updated` finding per 10 s; a change of cause goes out at once; the
// update held back goes out when its time comes; opened and closed always
// go out.
func TestUpdateThrottle(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	now := t0
	out := newCollect()
	a, err := New(Options{StateDir: t.TempDir(), Host: "web1", Emitters: []Emitter{out}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	upd := func(st correlate.State, cause correlate.Cause, n int) correlate.Update {
		return correlate.Update{State: st, Incident: correlate.Incident{ID: "inc1", Cause: cause, Gateways: n, Statuses: map[string]int{"502": n}}}
	}
	at := func(d time.Duration, ups ...correlate.Update) {
		now = t0.Add(d)
		a.emitUpdates(ctx, ups)
	}
	var states []string
	drain := func() {
		for {
			select {
			case f := <-out.ch:
				states = append(states, string(f.State)+":"+string(f.Cause)+":"+strconv.Itoa(f.Statuses["502"]))
			default:
				return
			}
		}
	}
	at(0, upd(correlate.Opened, correlate.CauseUnknown, 1))
	for i := 1; i <= 8; i++ { // doubling every second, same cause
		at(time.Duration(i)*time.Second, upd(correlate.Updated, correlate.CauseUnknown, 1<<i))
	}
	drain()
	if want := []string{"opened:unknown:1"}; strings.Join(states, " ") != strings.Join(want, " ") {
		t.Fatalf("within 10 s of opening: %v, want %v", states, want)
	}
	at(9*time.Second + 500*time.Millisecond) // a tick: not yet
	drain()
	if len(states) != 1 {
		t.Fatalf("a held update went out early: %v", states)
	}
	at(10 * time.Second) // a tick: the latest held update goes out
	drain()
	if got := states[len(states)-1]; got != "updated:unknown:256" {
		t.Fatalf("held update at 10 s: %v", states)
	}
	at(11*time.Second, upd(correlate.Updated, correlate.CauseUnknown, 512))
	at(12*time.Second, upd(correlate.Updated, correlate.CauseOOMKill, 600)) // cause changed: at once
	at(13*time.Second, upd(correlate.Updated, correlate.CauseOOMKill, 1200))
	at(14*time.Second, upd(correlate.Closed, correlate.CauseOOMKill, 1300))
	at(30 * time.Second) // nothing held survives the close
	drain()
	want := []string{"opened:unknown:1", "updated:unknown:256", "updated:oom_kill:600", "closed:oom_kill:1300"}
	if strings.Join(states, " ") != strings.Join(want, " ") {
		t.Fatalf("findings %v, want %v", states, want)
	}
	ids := map[string]bool{}
	for _, f := range out.fs {
		if ids[f.ID] {
			t.Errorf("duplicate finding id %s", f.ID)
		}
		ids[f.ID] = true
	}
}

// TestQuietFindingLog: with QuietFindingLog (a stdout sink under
// journald) a finding reaches the log's reader once, as the sink's JSON
// line, not also as an info log line.
func TestQuietFindingLog(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var journal bytes.Buffer // stdout and stderr both go to the journal
		log := slog.New(slog.NewTextHandler(&journal, &slog.HandlerOptions{Level: slog.LevelInfo}))
		a, err := New(Options{StateDir: t.TempDir(), Host: "web1", Log: log, QuietFindingLog: quiet,
			Emitters: []Emitter{jsonLines{&journal}}})
		if err != nil {
			t.Fatal(err)
		}
		f := finding.FromIncident("web1", correlate.Update{State: correlate.Opened, Incident: correlate.Incident{ID: "inc9", Cause: correlate.CauseOOMKill}}, 0)
		a.emit(context.Background(), f)
		n := strings.Count(journal.String(), f.ID)
		if want := map[bool]int{false: 2, true: 1}[quiet]; n != want {
			t.Errorf("quiet=%v: the finding appears %d times in the journal, want %d:\n%s", quiet, n, want, journal.String())
		}
	}
}

// jsonLines writes each finding as a JSON line, as the stdout sink does.
type jsonLines struct{ w io.Writer }

func (j jsonLines) Emit(_ context.Context, f finding.Finding) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}
