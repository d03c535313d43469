package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Entry is one journal entry of the kernel transport.
type Entry struct {
	Message  []byte    // MESSAGE; binary messages (a JSON byte array) decoded
	Time     time.Time // __REALTIME_TIMESTAMP, UTC
	Cursor   string    // __CURSOR: where to resume after this entry
	Priority int       // PRIORITY 0 (emerg) .. 7 (debug); 6 when absent
	// Monotonic is _SOURCE_MONOTONIC_TIMESTAMP (the kernel's own stamp),
	// else __MONOTONIC_TIMESTAMP; 0 when neither is present.
	Monotonic time.Duration
}

var (
	errNoMessage = errors.New("no MESSAGE")
	errNoTime    = errors.New("no __REALTIME_TIMESTAMP")
)

// ParseEntry decodes one line of `journalctl -o json` output.
//
// journalctl prints a field as a JSON string when it is valid UTF-8, as an
// array of byte values when it is not, as an array of those when the field
// has several values (the first is used here), and as null when it is
// longer than 4096 bytes and --all was not given (an empty message here).
func ParseEntry(line []byte) (Entry, error) {
	var raw struct {
		Message    json.RawMessage `json:"MESSAGE"`
		Realtime   json.RawMessage `json:"__REALTIME_TIMESTAMP"`
		Cursor     json.RawMessage `json:"__CURSOR"`
		Priority   json.RawMessage `json:"PRIORITY"`
		SourceMono json.RawMessage `json:"_SOURCE_MONOTONIC_TIMESTAMP"`
		Mono       json.RawMessage `json:"__MONOTONIC_TIMESTAMP"`
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return Entry{}, fmt.Errorf("journal entry: %w", err)
	}
	if raw.Message == nil {
		return Entry{}, fmt.Errorf("journal entry: %w", errNoMessage)
	}
	msg, err := field(raw.Message)
	if err != nil {
		return Entry{}, fmt.Errorf("journal entry MESSAGE: %w", err)
	}
	us, err := number(raw.Realtime)
	if err != nil {
		return Entry{}, fmt.Errorf("journal entry __REALTIME_TIMESTAMP: %w", err)
	}
	e := Entry{Message: msg, Time: time.UnixMicro(us).UTC(), Priority: 6}
	if raw.Cursor != nil {
		c, err := field(raw.Cursor)
		if err != nil {
			return Entry{}, fmt.Errorf("journal entry __CURSOR: %w", err)
		}
		e.Cursor = string(c)
	}
	if raw.Priority != nil {
		p, err := number(raw.Priority)
		if err != nil || p < 0 || p > 7 {
			return Entry{}, fmt.Errorf("journal entry PRIORITY %s: not 0..7", raw.Priority)
		}
		e.Priority = int(p)
	}
	for _, m := range []json.RawMessage{raw.SourceMono, raw.Mono} {
		if m == nil {
			continue
		}
		if us, err := number(m); err == nil {
			e.Monotonic = time.Duration(us) * time.Microsecond
			break
		}
	}
	return e, nil
}

// field decodes a journal field value: "text", [byte, ...], null, or an
// array of such values for a field set more than once.
func field(m json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		return []byte(s), nil
	}
	var bs []byte
	var nums []uint8
	if err := json.Unmarshal(m, &nums); err == nil {
		bs = nums
		if bs == nil {
			bs = []byte{}
		}
		return bs, nil
	}
	var multi []json.RawMessage
	if err := json.Unmarshal(m, &multi); err == nil && len(multi) > 0 {
		if multi[0][0] == '[' || multi[0][0] == '"' {
			return field(multi[0])
		}
	}
	return nil, fmt.Errorf("unexpected value %.40s", m)
}

// number decodes a decimal number journalctl prints as a string.
func number(m json.RawMessage) (int64, error) {
	if m == nil {
		return 0, errNoTime
	}
	b, err := field(m)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", b, err)
	}
	return n, nil
}

// KmsgLine renders the entry as a /dev/kmsg record
// "prio,0,usec,-;message" so that parsers/kernel classifies journal and
// /dev/kmsg messages alike. The sequence number is 0 (the journal has
// none); usec is Monotonic. The line is a new slice.
func (e Entry) KmsgLine() []byte {
	b := make([]byte, 0, 32+len(e.Message))
	b = strconv.AppendInt(b, int64(e.Priority), 10)
	b = append(b, ",0,"...)
	b = strconv.AppendInt(b, e.Monotonic.Microseconds(), 10)
	b = append(b, ",-;"...)
	return append(b, e.Message...)
}
