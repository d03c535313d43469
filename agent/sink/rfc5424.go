package sink

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// SDID is the structured-data element of every message: a private enterprise
// number style id carrying cause, severity and finding id.
const SDID = "origin-agent@32473"

// facilities maps RFC 5424 facility names to codes.
var facilities = map[string]uint8{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// syslogSeverity maps a finding severity to the RFC 5424 severity code.
func syslogSeverity(s finding.Severity) uint8 {
	switch s {
	case finding.SeverityCritical:
		return 2 // crit
	case finding.SeverityWarning:
		return 4 // warning
	}
	return 6 // informational
}

// Header are the RFC 5424 header fields that do not come from the finding.
type Header struct {
	Facility uint8  // 0..23
	Hostname string // used when the finding has no Host
	AppName  string
	ProcID   string
}

// FormatRFC5424 renders one finding as an RFC 5424 message (no framing):
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [origin-agent@32473 cause="…" id="…" severity="…"] {finding JSON}
//
// PRI is facility*8 + (crit|warning|info by severity); TIMESTAMP is the
// finding's End (its Start, or now, when unset) in UTC with microseconds;
// MSGID is "<kind>-<state>", e.g. "incident-opened". Header fields are cut to
// their RFC lengths and non-printable or non-ASCII bytes become "_"; SD
// values are made valid UTF-8 and escaped by go-syslog (`"`, `\`, `]`, RFC
// 5424 §6.3.3). The MSG is the finding JSON without a BOM: RFC 5424 makes the
// BOM optional, and receivers (rsyslog %msg%, Loki, Splunk) keep it as part
// of the text, which breaks JSON parsing downstream; JSON is UTF-8 by RFC
// 8259 anyway.
//
// maxSize > 0 bounds the message (UDP): evidence entries are dropped from the
// end until it fits, then the JSON is cut at a UTF-8 boundary (the
// structured data still names cause, severity and id).
//
// The cut never reaches into the header or the structured data: a maxSize
// smaller than those two (at most about 1 KiB: header fields and SD values
// are bounded) yields them alone, over maxSize.
func FormatRFC5424(f finding.Finding, h Header, now time.Time, maxSize int) ([]byte, error) {
	out, msgAt, err := formatRFC5424(f, h, now)
	if err != nil || maxSize <= 0 || len(out) <= maxSize {
		return out, err
	}
	for len(f.Evidence) > 0 && len(out) > maxSize {
		f.Evidence = f.Evidence[:len(f.Evidence)-1]
		if out, msgAt, err = formatRFC5424(f, h, now); err != nil {
			return nil, err
		}
	}
	if len(out) > maxSize {
		cut := maxSize
		for cut > msgAt && !utf8.RuneStart(out[cut]) {
			cut--
		}
		if cut <= msgAt {
			cut = msgAt - 1 // no room for any of the MSG: drop it and its space
		}
		out = out[:cut]
	}
	return out, nil
}

// formatRFC5424 renders the whole message; msgAt is where the MSG (the
// finding JSON, the message's raw suffix) begins.
func formatRFC5424(f finding.Finding, h Header, now time.Time) (out []byte, msgAt int, err error) {
	js, err := json.Marshal(f)
	if err != nil {
		return nil, 0, Permanent(fmt.Errorf("encode finding %s: %w", f.ID, err))
	}
	ts := f.End
	if ts.IsZero() {
		ts = f.Start
	}
	if ts.IsZero() {
		ts = now
	}
	ts = ts.UTC()
	pri := h.Facility%24*8 + syslogSeverity(f.Severity)
	host := f.Host
	if host == "" {
		host = h.Hostname
	}
	msg := &rfc5424.SyslogMessage{}
	msg.SetPriority(pri)
	msg.SetVersion(1)
	msg.Timestamp = &ts
	for _, fld := range []struct {
		dst **string
		v   string
		max int
	}{
		{&msg.Hostname, host, 255},
		{&msg.Appname, h.AppName, 48},
		{&msg.ProcID, h.ProcID, 128},
		{&msg.MsgID, string(f.Kind) + "-" + string(f.State), 32},
	} {
		if v := headerField(fld.v, fld.max); v != "" {
			*fld.dst = &v
		}
	}
	sd := map[string]map[string]string{SDID: {
		"cause":    sdValue(string(f.Cause)),
		"severity": sdValue(string(f.Severity)),
		"id":       sdValue(f.ID),
	}}
	msg.StructuredData = &sd
	body := string(js)
	msg.Message = &body
	s, err := msg.String()
	if err != nil {
		return nil, 0, Permanent(fmt.Errorf("build syslog message for %s: %w", f.ID, err))
	}
	return []byte(s), len(s) - len(body), nil
}

// headerField makes v a valid RFC 5424 header field: PRINTUSASCII (33..126),
// at most max bytes; "" for nil ("-").
func headerField(v string, max int) string {
	if v == "-" {
		return ""
	}
	b := []byte(v)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// maxSDValue bounds an SD value (cause, severity and id are all far
// shorter), so that header and structured data always fit a datagram.
const maxSDValue = 64

// sdValue makes v valid UTF-8 of at most maxSDValue bytes (escaping is the
// builder's job).
func sdValue(v string) string {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	if len(v) > maxSDValue {
		cut := maxSDValue
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	return v
}
