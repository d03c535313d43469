package agent

import (
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// JSONLines writes each finding as one JSON line to W (stdout by default
// in `run`). It is the simplest emitter: synchronous, no retry.
type JSONLines struct {
	W  io.Writer
	mu sync.Mutex
}

var _ Emitter = (*JSONLines)(nil)

// Emit writes f and a newline.
func (j *JSONLines) Emit(_ context.Context, f finding.Finding) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err = j.W.Write(append(b, '\n'))
	return err
}
