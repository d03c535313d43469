package sink

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// webhookSink POSTs each batch to url as a JSON array of findings
// (Content-Type: application/json) with the configured headers. Any 2xx
// confirms the whole batch.
type webhookSink struct {
	url string
	p   *poster
}

func newWebhook(cfg Config, _ Deps) (*webhookSink, error) {
	return &webhookSink{url: cfg.URL, p: newPoster(cfg)}, nil
}

func (s *webhookSink) Send(ctx context.Context, batch []finding.Finding) error {
	if len(batch) == 0 {
		return nil
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return Permanent(fmt.Errorf("encode findings: %w", err))
	}
	_, err = s.p.post(ctx, s.url, "application/json", body)
	return err
}

func (s *webhookSink) Close() error { s.p.client.CloseIdleConnections(); return nil }
