package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/internal/receivers"
)

// TestSyslogE2E sends findings over UDP, TCP and TLS (client certificate,
// CA and server name made by the test) to a real rsyslogd and checks, with
// rsyslog's own RFC 5424 properties, that every finding arrived with header,
// structured data and JSON message intact.
func TestSyslogE2E(t *testing.T) {
	receivers.RequireRsyslog(t, false)
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			cfg := def(Config{Type: TypeSyslog, Name: "syslog-" + transport, Address: fmt.Sprintf("%s://127.0.0.1:%d", transport, port)})
			var globals, inputs string
			switch transport {
			case "udp":
				inputs = fmt.Sprintf(`module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%d" ruleset="r")`, port)
			case "tcp":
				inputs = fmt.Sprintf(`module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="r")`, port)
			case "tls":
				receivers.RequireRsyslog(t, true)
				pki := newTestPKI(t, dir)
				globals = fmt.Sprintf(`defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q`,
					pki.CA, pki.ServerCert, pki.ServerKey)
				inputs = fmt.Sprintf(`module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="r")`, port)
				cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.ServerName = pki.CA, pki.ClientCert, pki.ClientKey, "syslog.test"
			}
			rs := receivers.StartRsyslog(t, dir, globals, inputs)
			s, err := New(cfg, Deps{Hostname: "fallback-host"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			batch := testBatch(20)
			batch[3].ID = `evil"]\id` // every character RFC 5424 §6.3.3 escapes
			batch[4].Severity, batch[4].Cause = finding.SeverityInfo, "rate_limited"
			batch[5].Host = "" // falls back to Deps.Hostname
			batch[6].Summary = "ünïcödé ✓ summary"
			for i := 0; i < len(batch); i += 5 { // several Sends: a connection is reused
				if err := s.Send(context.Background(), batch[i:i+5]); err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			lines := rs.WaitLines(len(batch), 10*time.Second)
			if len(lines) != len(batch) {
				t.Fatalf("rsyslog wrote %d lines, want %d:\n%s", len(lines), len(batch), strings.Join(lines, "\n"))
			}
			for i, line := range lines {
				f := batch[i]
				parts := strings.SplitN(line, "|", 5)
				if len(parts) != 5 {
					t.Fatalf("line %d: %q", i, line)
				}
				host := f.Host
				if host == "" {
					host = "fallback-host"
				}
				escID := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(f.ID)
				wantSD := fmt.Sprintf(`[origin-agent@32473 cause="%s" id="%s" severity="%s"]`, f.Cause, escID, f.Severity)
				if parts[0] != "incident-opened" || parts[1] != wantSD || parts[2] != "origin-agent" || parts[3] != host {
					t.Errorf("line %d header/SD:\n got %q\nwant %q", i, strings.Join(parts[:4], "|"),
						"incident-opened|"+wantSD+"|origin-agent|"+host)
				}
				msg := strings.TrimPrefix(parts[4], " ")
				var got finding.Finding
				if err := json.Unmarshal([]byte(msg), &got); err != nil {
					t.Fatalf("line %d: message is not the finding JSON: %v\n%s", i, err, msg)
				}
				want, _ := json.Marshal(NewRedactor(nil).Finding(f)) // redaction is on by default
				if msg != string(want) {
					t.Errorf("line %d: JSON changed in transit:\n got %s\nwant %s", i, msg, want)
				}
			}
		})
	}
}
