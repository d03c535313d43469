package apache

import (
	"errors"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

func TestErrorTable(t *testing.T) {
	tests := []struct {
		line                        string
		sig                         parsers.Signal
		level                       parsers.Level
		module, code, client, upstr string
		pid, tid, errno             int
		message, referer, time      string
	}{
		{
			line: `[Fri Nov 20 10:01:02.123456 2026] [proxy_fcgi:error] [pid 1234:tid 140123456] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01075: Error dispatching request to : (polling), referer: http://example.com/`,
			sig:  parsers.SigApacheTimeout, level: parsers.LevelError, module: "proxy_fcgi", code: "AH01075", client: "203.0.113.7",
			pid: 1234, tid: 140123456, errno: 70007, message: "Error dispatching request to : (polling)", referer: "http://example.com/", time: "2026-11-20T10:01:02.123456Z",
		},
		{
			line: `[Fri Nov 20 10:01:02.000001 2026] [proxy_fcgi:error] [pid 1234:tid 5] (104)Connection reset by peer: [client 2001:db8::1:443] AH01075: Error dispatching request to :`,
			sig:  parsers.SigResetByPeer, level: parsers.LevelError, module: "proxy_fcgi", code: "AH01075", client: "2001:db8::1",
			pid: 1234, tid: 5, errno: 104, message: "Error dispatching request to :", time: "2026-11-20T10:01:02.000001Z",
		},
		{
			line: `[Fri Nov 20 10:01:02 2026] [proxy:error] [pid 7] (111)Connection refused: AH00957: FCGI: attempt to connect to 127.0.0.1:9000 (127.0.0.1:9000) failed`,
			sig:  parsers.SigApacheConnectFailed, level: parsers.LevelError, module: "proxy", code: "AH00957", upstr: "127.0.0.1:9000",
			pid: 7, errno: 111, message: "FCGI: attempt to connect to 127.0.0.1:9000 (127.0.0.1:9000) failed", time: "2026-11-20T10:01:02Z",
		},
		{
			line: `[Fri Nov 20 10:01:02 2026] [proxy:error] [pid 7:tid 8] (2)No such file or directory: AH02454: FCGI: attempt to connect to Unix domain socket /run/php/php8.2-fpm.sock (localhost:8000) failed`,
			sig:  parsers.SigApacheNoSocket, level: parsers.LevelError, module: "proxy", code: "AH02454", upstr: "/run/php/php8.2-fpm.sock",
			pid: 7, tid: 8, errno: 2, message: "FCGI: attempt to connect to Unix domain socket /run/php/php8.2-fpm.sock (localhost:8000) failed", time: "2026-11-20T10:01:02Z",
		},
		{
			line: `[Fri Nov 20 10:01:02 2026] [mpm_event:error] [pid 1:tid 1] AH00484: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting`,
			sig:  parsers.SigApacheMaxWorkers, level: parsers.LevelError, module: "mpm_event", code: "AH00484", pid: 1, tid: 1,
			message: "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting", time: "2026-11-20T10:01:02Z",
		},
		{
			line: `[Fri Nov 20 10:01:02 2026] [proxy_fcgi:error] [pid 1:tid 2] [client 1.2.3.4:5] AH01071: Got error 'PHP message: connect() (111: Connection refused) The timeout specified has expired'`,
			sig:  parsers.SigNone, level: parsers.LevelError, module: "proxy_fcgi", code: "AH01071", client: "1.2.3.4", pid: 1, tid: 2,
			message: "Got error 'PHP message: connect() (111: Connection refused) The timeout specified has expired'", time: "2026-11-20T10:01:02Z",
		},
		{
			line: `[Mon Nov 02 10:01:02 2026] [error] [client 1.2.3.4] (70007)The timeout specified has expired: proxy: error reading status line from remote server 127.0.0.1:8080`,
			sig:  parsers.SigApacheTimeout, level: parsers.LevelError, client: "1.2.3.4", errno: 70007,
			message: "proxy: error reading status line from remote server 127.0.0.1:8080", time: "2026-11-02T10:01:02Z",
		},
		{
			line: `[Mon Nov  2 10:01:02 2026] [notice] caught SIGTERM, shutting down`,
			sig:  parsers.SigServerStopping, level: parsers.LevelNotice, message: "caught SIGTERM, shutting down", time: "2026-11-02T10:01:02Z",
		},
		{
			line: `AH00558: apache2: Could not reliably determine the server's fully qualified domain name`,
			code: "AH00558", message: "apache2: Could not reliably determine the server's fully qualified domain name",
		},
	}
	parse := NewError(parsers.Options{Location: time.UTC})
	for _, tc := range tests {
		t.Run(tc.line[:min(len(tc.line), 60)], func(t *testing.T) {
			ev, err := parse([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			gotTime := ""
			if !ev.Time.IsZero() {
				gotTime = ev.Time.Format(time.RFC3339Nano)
				if !ev.NoZone {
					t.Error("NoZone not set")
				}
			}
			got := []any{ev.Kind, ev.Signal, ev.Level, string(ev.Module), string(ev.Code), string(ev.Client), string(ev.Upstream), ev.PID, ev.TID, ev.Errno, string(ev.Message), string(ev.Referer), gotTime}
			want := []any{parsers.KindProxy, tc.sig, tc.level, tc.module, tc.code, tc.client, tc.upstr, tc.pid, tc.tid, tc.errno, tc.message, tc.referer, tc.time}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestChildSignal: an apache child that died (captured from Apache 2.4 by
// examples/generate.sh, kill -SEGV of a child with requests in flight).
func TestChildSignal(t *testing.T) {
	parse := NewError(parsers.Options{Location: time.UTC})
	for _, tc := range []struct {
		line     string
		sig      parsers.Signal
		pid, num int
	}{
		{`[Thu Dec 03 08:29:41.271829 2026] [core:notice] [pid 13812:tid 13812] AH00052: child pid 13814 exit signal Segmentation fault (11)`, parsers.SigServerChildSignal, 13814, 11},
		{`[Thu Dec 03 08:29:41.271829 2026] [core:notice] [pid 13812:tid 13812] AH00051: child pid 13814 exit signal Aborted (6), possible coredump in /etc/apache2`, parsers.SigServerChildSignal, 13814, 6},
		{`[Thu Dec 03 08:29:41 2026] [notice] child pid 13814 exit signal Bus error (7)`, parsers.SigServerChildSignal, 13814, 7},
		{`[Thu Dec 03 08:29:41.271829 2026] [core:notice] [pid 13812:tid 13812] AH00052: child pid x exit signal Segmentation fault (11)`, parsers.SigNone, 0, 0},
	} {
		ev, err := parse([]byte(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Signal != tc.sig || ev.ChildPID != tc.pid || ev.ExitSig != tc.num {
			t.Errorf("%s: signal %v pid %d sig %d, want %v %d %d", tc.line, ev.Signal, ev.ChildPID, ev.ExitSig, tc.sig, tc.pid, tc.num)
		}
	}
}

func TestErrorNoMatch(t *testing.T) {
	parse := NewError(parsers.Options{})
	for _, line := range []string{
		``,
		`Action 'start' failed.`,
		`[Fri Nov 20 10:01:02 2026] [bogus:loudest] [pid 1] x`,
		`[Fri Nov 20 25:01:02 2026] [core:error] [pid 1] x`,
		`[Fri Nov 20 10:01:02 2026]`,
		`2026/11/20 10:01:02 [error] 12#12: *5 connect() failed (111: Connection refused)`,
	} {
		if _, err := parse([]byte(line)); !errors.Is(err, parsers.ErrNoMatch) {
			t.Errorf("%q: err = %v, want ErrNoMatch", line, err)
		}
	}
}

func TestProxyHTTPCodes(t *testing.T) {
	p := NewError(parsers.Options{})
	cases := []struct {
		line string
		want parsers.Signal
	}{
		{`[Fri Nov 20 10:01:02.123456 2026] [proxy:error] [pid 12:tid 34] (111)Connection refused: AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (127.0.0.1:8080) failed`, parsers.SigApacheConnectFailed},
		{`[Fri Nov 20 10:01:02.123456 2026] [proxy_http:error] [pid 12:tid 34] [client 1.2.3.4:5] AH01114: HTTP: failed to make connection to backend: 127.0.0.1`, parsers.SigApacheConnectFailed},
		{`[Fri Nov 20 10:01:02.123456 2026] [proxy_http:error] [pid 12:tid 34] (104)Connection reset by peer: [client 1.2.3.4:5] AH01102: error reading status line from remote server 127.0.0.1:8080`, parsers.SigResetByPeer},
		{`[Fri Nov 20 10:01:02.123456 2026] [proxy_http:error] [pid 12:tid 34] (70007)The timeout specified has expired: [client 1.2.3.4:5] AH01102: error reading status line from remote server 127.0.0.1:8080`, parsers.SigApacheTimeout},
		{`[Fri Nov 20 10:01:02.123456 2026] [proxy:error] [pid 12:tid 34] [client 1.2.3.4:5] AH00898: Error reading from remote server returned by /app`, parsers.SigNone},
	}
	for _, tc := range cases {
		ev, err := p([]byte(tc.line))
		if err != nil || ev.Signal != tc.want {
			t.Errorf("%s\n got %v (%v), want %v", tc.line, ev.Signal, err, tc.want)
		}
	}
}
