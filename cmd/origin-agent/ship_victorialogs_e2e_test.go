package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/receivers"
)

// vlShip runs `analyze --ship` of the examples with config body (state in
// dir) and returns its exit code and stderr.
func vlShip(t *testing.T, dir, body, timeout string) (int, string) {
	t.Helper()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("[agent]\nstate_dir = %q\nhostname = \"web1\"\n%s", dir, body)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--ship", "--ship-timeout", timeout, "--config", p, "../../examples"}, &out, &errb)
	return code, errb.String()
}

// lokiSink is a [[sinks]] table of a named loki sink labelled with its
// name, so that VictoriaLogs tells which sink delivered each record.
func lokiSink(name, url string) string {
	return fmt.Sprintf("\n[[sinks]]\ntype = \"loki\"\nname = %q\nurl = %q\nlabels = { sink = %q }\nretry_max = \"1s\"\nbatch_wait = \"50ms\"\n", name, url, name)
}

// TestShipVictoriaLogsE2E: the shipping bars against a real VictoriaLogs.
func TestShipVictoriaLogsE2E(t *testing.T) {
	n := len(shipExampleIDs(t))

	t.Run("swapped_sinks_misdeliver_nothing", func(t *testing.T) {
		vl := receivers.StartVictoriaLogs(t, "")
		dead := "http://" + receivers.FreeAddr(t) + "/insert/loki/api/v1/push"
		live := vl + "/insert/loki/api/v1/push?_msg_field=message"
		dir := t.TempDir()
		if code, errs := vlShip(t, dir, lokiSink("central", dead)+lokiSink("backup", live), "2s"); code != exitFail {
			t.Fatalf("exit %d, want 1 (central is down):\n%s", code, errs)
		}
		if got := receivers.Query(t, vl, `sink:backup`, n); len(got) != n {
			t.Fatalf("backup delivered %d, want %d", len(got), n)
		}
		// Swapped: central's backlog (n findings) must not reach backup's receiver.
		vlShip(t, dir, lokiSink("backup", live)+lokiSink("central", dead), "2s")
		if got := receivers.Query(t, vl, `sink:central`, 1); len(got) != 0 {
			t.Errorf("%d of central's findings were delivered to backup's receiver", len(got))
		}
	})

	t.Run("wrong_path_keeps_findings_until_fixed", func(t *testing.T) {
		vl := receivers.StartVictoriaLogs(t, "")
		dir := t.TempDir()
		code, errs := vlShip(t, dir, lokiSink("central", vl+"/loki/api/v1/push"), "2s") // VictoriaLogs serves /insert/loki/…
		if code != exitFail || !strings.Contains(errs, "rejects every request (HTTP 400)") {
			t.Fatalf("wrong path: exit %d, want 1 and the refusal logged:\n%s", code, errs)
		}
		if !strings.Contains(errs, fmt.Sprintf("central: 0 of %d findings delivered, %d left in the spool", n, n)) {
			t.Errorf("the findings did not stay spooled:\n%s", errs)
		}
		code, errs = vlShip(t, dir, lokiSink("central", vl+"/insert/loki/api/v1/push?_msg_field=message"), "20s")
		if code != exitOK {
			t.Fatalf("URL fixed: exit %d, want 0:\n%s", code, errs)
		}
		if got := receivers.Query(t, vl, `sink:central`, n+1); len(got) != n {
			t.Errorf("after the fix VictoriaLogs holds %d records, want each of the %d findings once", len(got), n)
		}
	})

	t.Run("down_then_up_ships_one_copy", func(t *testing.T) {
		addr := receivers.FreeAddr(t)
		dir := t.TempDir()
		url := "http://" + addr + "/insert/loki/api/v1/push?_msg_field=message"
		if code, errs := vlShip(t, dir, lokiSink("central", url), "1s"); code != exitFail {
			t.Fatalf("receiver down: exit %d, want 1:\n%s", code, errs)
		}
		vl := receivers.StartVictoriaLogs(t, addr)
		if code, errs := vlShip(t, dir, lokiSink("central", url), "20s"); code != exitOK {
			t.Fatalf("receiver up: exit %d, want 0:\n%s", code, errs)
		}
		got := receivers.Query(t, vl, `sink:central`, n+1)
		if len(got) != n {
			t.Errorf("VictoriaLogs holds %d records, want each of the %d findings once", len(got), n)
		}
		seen := map[string]int{}
		for _, r := range got {
			seen[r["id"]]++
			if r["_msg"] == "" || strings.HasPrefix(r["_msg"], "missing _msg") {
				t.Errorf("record without its message: %v", r)
			}
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("finding %s arrived %d times", id, c)
			}
		}
	})
}
