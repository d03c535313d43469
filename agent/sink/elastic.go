package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// elasticSink indexes findings with the _bulk API of Elasticsearch or
// OpenSearch: POST {url}/_bulk, Content-Type application/x-ndjson, body
//
//	{"create":{"_index":"<index>","_id":"<finding id>"}}\n
//	{"@timestamp":"<End, RFC 3339>",<finding JSON fields>}\n
//	…
//
// ending in a newline. create (not index) is what data streams accept; the
// finding id as _id makes a replayed finding a 409 conflict, which counts as
// confirmed (it is already there), so at-least-once delivery does not
// duplicate documents. Authentication: Authorization: ApiKey <api_key>, or
// basic auth from username/password.
//
// The answer is read item by item even when HTTP says 200: items with 2xx or
// 409 are confirmed, 429 and 5xx are retried, other statuses (mapping
// errors, 400) are permanent and dropped by the Deliverer.
type elasticSink struct {
	url   string
	index string
	now   func() time.Time
	p     *poster
}

func newElastic(cfg Config, deps Deps) (*elasticSink, error) {
	return &elasticSink{url: endpoint(cfg.URL, "/_bulk"), index: cfg.Index, now: deps.Now, p: newPoster(cfg)}, nil
}

// bulkBody renders the NDJSON body for a batch.
func (s *elasticSink) bulkBody(batch []finding.Finding) ([]byte, error) {
	var buf []byte
	for _, f := range batch {
		action, err := json.Marshal(map[string]map[string]string{"create": {"_index": s.index, "_id": f.ID}})
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode bulk action: %w", err))
		}
		doc, err := json.Marshal(f)
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode finding %s: %w", f.ID, err))
		}
		ts := f.End
		if ts.IsZero() {
			ts = f.Start
		}
		if ts.IsZero() {
			ts = s.now()
		}
		buf = append(buf, action...)
		buf = append(buf, '\n')
		buf = append(buf, `{"@timestamp":"`...)
		buf = ts.UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, '"')
		if len(doc) > 2 { // doc is "{…}": splice its fields after @timestamp
			buf = append(buf, ',')
		}
		buf = append(buf, doc[1:]...)
		buf = append(buf, '\n')
	}
	return buf, nil
}

func (s *elasticSink) Send(ctx context.Context, batch []finding.Finding) error {
	if len(batch) == 0 {
		return nil
	}
	body, err := s.bulkBody(batch)
	if err != nil {
		return err
	}
	answer, err := s.p.post(ctx, s.url, "application/x-ndjson", body)
	if err != nil {
		return err
	}
	items, err := ParseBulkResponse(answer, len(batch))
	if err != nil {
		return fmt.Errorf("post %s: %w", s.url, err)
	}
	if len(items) > 0 {
		return &BatchError{Items: items}
	}
	return nil
}

func (s *elasticSink) Close() error { s.p.client.CloseIdleConnections(); return nil }

// ErrBulkAnswer is wrapped by ParseBulkResponse errors: the answer could not
// be matched to the request, so the whole batch is retried (safe: replayed
// creates conflict with 409 and count as confirmed).
var ErrBulkAnswer = errors.New("unreadable _bulk answer")

type bulkAnswer struct {
	Errors *bool                 `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
}

type bulkItem struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// ParseBulkResponse reads a 2xx _bulk answer for a request of n actions and
// returns the failed items (nil: all confirmed). 409 (document exists)
// counts as confirmed; 429 and 5xx items are retryable; other failures are
// Permanent.
func ParseBulkResponse(body []byte, n int) ([]ItemError, error) {
	var a bulkAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBulkAnswer, err)
	}
	if a.Errors == nil {
		return nil, fmt.Errorf("%w: no \"errors\" field", ErrBulkAnswer)
	}
	if len(a.Items) != n {
		return nil, fmt.Errorf("%w: %d items for %d actions", ErrBulkAnswer, len(a.Items), n)
	}
	if !*a.Errors {
		return nil, nil
	}
	var out []ItemError
	for i, m := range a.Items {
		if len(m) != 1 {
			return nil, fmt.Errorf("%w: item %d has %d actions", ErrBulkAnswer, i, len(m))
		}
		for _, it := range m {
			if (it.Status >= 200 && it.Status < 300) || it.Status == 409 {
				continue
			}
			reason := strings.TrimSpace(string(it.Error))
			if len(reason) > 512 {
				reason = reason[:512] + "…"
			}
			err := fmt.Errorf("item %d: status %d: %s", i, it.Status, reason)
			if it.Status != 429 && it.Status < 500 {
				err = Permanent(err)
			}
			out = append(out, ItemError{Index: i, Err: err})
		}
	}
	return out, nil
}
