package agent

import (
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

// UpdateEvery is the least time between two findings of one incident
// unless its cause changed: an incident that doubles its count every
// second would otherwise page a person with a finding a second. The
// opened and closed findings always go out at once.
const UpdateEvery = 10 * time.Second

// updateThrottle holds back `updated` findings (see UpdateEvery). It is
// owned by the loop goroutine.
type updateThrottle struct {
	every time.Duration
	open  map[string]*sentIncident // incident id → what was last sent
}

type sentIncident struct {
	at      time.Time       // when its last finding went out
	cause   correlate.Cause // the cause that finding named
	pending *correlate.Update
}

func newUpdateThrottle(every time.Duration) *updateThrottle {
	return &updateThrottle{every: every, open: map[string]*sentIncident{}}
}

// admit decides about u at now: true sends it now; false holds it back
// (as the incident's latest state, sent by due once the interval passed,
// unless a newer update or the close comes first).
func (t *updateThrottle) admit(u correlate.Update, now time.Time) bool {
	id := u.Incident.ID
	switch u.State {
	case correlate.Closed:
		delete(t.open, id)
		return true
	case correlate.Opened:
		t.open[id] = &sentIncident{at: now, cause: u.Incident.Cause}
		return true
	}
	s := t.open[id]
	if s == nil || u.Incident.Cause != s.cause || now.Sub(s.at) >= t.every {
		t.open[id] = &sentIncident{at: now, cause: u.Incident.Cause}
		return true
	}
	held := u
	s.pending = &held
	return false
}

// due returns the held-back updates whose interval has passed at now, and
// counts them as sent.
func (t *updateThrottle) due(now time.Time) []correlate.Update {
	var out []correlate.Update
	for _, s := range t.open {
		if s.pending != nil && now.Sub(s.at) >= t.every {
			out = append(out, *s.pending)
			s.at, s.cause, s.pending = now, s.pending.Incident.Cause, nil
		}
	}
	return out
}
