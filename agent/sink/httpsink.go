package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// endpoint appends suffix to the path of the configured URL unless the path
// already ends with it, keeping the query string (VictoriaLogs takes its
// field mapping there: …/insert/elasticsearch/?_time_field=@timestamp) and
// any user info. Validation already checked raw is an http(s) URL.
func endpoint(raw, suffix string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if !strings.HasSuffix(u.Path, suffix) {
		u.Path = strings.TrimRight(u.Path, "/") + suffix
		if u.RawPath != "" {
			u.RawPath = strings.TrimRight(u.RawPath, "/") + suffix
		}
	}
	return u.String()
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

// RejectedError is a whole request the destination refused with a 4xx that
// retrying unchanged will not fix by itself: a wrong URL path, a tenant the
// receiver does not accept, bad credentials, a payload format it does not
// speak. Those are configuration mistakes, so the findings stay spooled
// (the Deliverer retries with backoff and says so loudly) until the
// operator fixes the config; only rejections of single items (an
// Elasticsearch _bulk item error) drop a finding.
type RejectedError struct {
	Code int
	err  error
}

func (e *RejectedError) Error() string { return e.err.Error() }
func (e *RejectedError) Unwrap() error { return e.err }

// statusError is nil for 2xx, a *RejectedError for 4xx other than the
// transient 408, 425 and 429, and a plain (retryable) error otherwise.
func statusError(code int, body []byte) error {
	if code >= 200 && code < 300 {
		return nil
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	err := fmt.Errorf("HTTP %d: %s", code, msg)
	switch {
	case code == 408 || code == 425 || code == 429 || code >= 500:
		return err
	case code >= 400:
		return &RejectedError{Code: code, err: err}
	}
	return err // 1xx/3xx: a proxy in the way; retry
}
