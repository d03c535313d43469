package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/internal/stateown"
)

// lastIncidentFile holds the end of the last closed incident across
// restarts (RFC 3339), for correlate.Correlator.Resume: a restarted agent
// reads the last minutes of the kernel ring buffer and of its signal logs
// again, and the evidence of an incident it already reported must not
// explain the next one.
const lastIncidentFile = "last-incident"

// loadLastIncident returns the saved end, zero when there is none. A file
// that does not parse is reported and ignored: it costs at most an
// attribution, never the agent.
func loadLastIncident(stateDir string) (time.Time, error) {
	path := filepath.Join(stateDir, lastIncidentFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s:1: %w", path, err)
	}
	return t, nil
}

// saveLastIncident writes end atomically, mode 0600 like the positions
// file, the state directory owner's (stateown.WriteFile).
func saveLastIncident(stateDir string, end time.Time) error {
	p := filepath.Join(stateDir, lastIncidentFile)
	return stateown.WriteFile(p, []byte(end.UTC().Format(time.RFC3339Nano)+"\n"), 0o600)
}
