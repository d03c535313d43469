package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// poster sends request bodies for the HTTP-based sinks and classifies the
// answers.
type poster struct {
	client   *http.Client
	headers  map[string]string
	gzip     bool
	username string
	password string
	apiKey   string
}

func newPoster(cfg Config) *poster {
	return &poster{
		client:  &http.Client{}, // timeouts come from the Send context
		headers: cfg.Headers, gzip: cfg.Gzip, username: cfg.Username, password: cfg.Password, apiKey: cfg.APIKey,
	}
}

// post sends body and returns the answer's body for a 2xx status. Errors:
// see statusError; transport errors are retryable.
func (p *poster) post(ctx context.Context, url, contentType string, body []byte) ([]byte, error) {
	var rd io.Reader = bytes.NewReader(body)
	if p.gzip {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		if _, err := zw.Write(body); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		rd = &zb
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, rd)
	if err != nil {
		return nil, Permanent(fmt.Errorf("request %s: %w", url, err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "origin-agent")
	if p.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Authorization") == "" {
		switch {
		case p.apiKey != "":
			req.Header.Set("Authorization", "ApiKey "+p.apiKey)
		case p.username != "" || p.password != "":
			req.SetBasicAuth(p.username, p.password)
		}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("post %s: read answer: %w", url, err)
	}
	if err := statusError(resp.StatusCode, rb); err != nil {
		return nil, fmt.Errorf("post %s: %w", url, err)
	}
	return rb, nil
}

// retryableStatus reports whether a request that got status may succeed
// later unchanged. 429, 408 and 5xx are load or outage; 401, 403, 404 and 407
// are configuration (credentials, URL) that the operator fixes while the
// spool keeps the findings. Any other 4xx rejects the payload itself.
func retryableStatus(code int) bool {
	switch code {
	case 401, 403, 404, 407, 408, 425, 429:
		return true
	}
	return code >= 500
}

// statusError is nil for 2xx, a retryable error for retryableStatus, and a
// Permanent error otherwise.
func statusError(code int, body []byte) error {
	if code >= 200 && code < 300 {
		return nil
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	err := fmt.Errorf("HTTP %d: %s", code, msg)
	if retryableStatus(code) {
		return err
	}
	return Permanent(err)
}
