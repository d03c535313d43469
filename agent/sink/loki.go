package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// lokiSink pushes findings to Loki: POST {url}/loki/api/v1/push with
//
//	{"streams":[{"stream":{"cause":"…","host":"…","severity":"…","site":"…",<static labels>},
//	             "values":[["<unix ns>","<finding JSON>"],…]},…]}
//
// One stream per label set (streams sorted by label set, values by time).
// The entry time is the finding's End (Start, or now, when unset). Static
// labels never override host, cause, severity and site (the incident's most
// affected site, when it has one). X-Scope-OrgID is sent
// when a tenant is set; gzip bodies are sent with Content-Encoding: gzip.
type lokiSink struct {
	url    string
	tenant string
	labels map[string]string
	host   string
	now    func() time.Time
	p      *poster
}

type lokiPush struct {
	Streams []lokiStream `json:"streams"`
}

type lokiStream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"`
}

func newLoki(cfg Config, deps Deps) (*lokiSink, error) {
	u := endpoint(cfg.URL, "/loki/api/v1/push")
	p := newPoster(cfg)
	if cfg.Tenant != "" {
		h := map[string]string{"X-Scope-OrgID": cfg.Tenant}
		for k, v := range cfg.Headers {
			h[k] = v
		}
		p.headers = h
	}
	return &lokiSink{url: u, tenant: cfg.Tenant, labels: cfg.Labels, host: deps.Hostname, now: deps.Now, p: p}, nil
}

// lokiBody builds the push body for a batch.
func (s *lokiSink) lokiBody(batch []finding.Finding) ([]byte, error) {
	type entry struct {
		ns   int64
		line string
	}
	byKey := map[string]*lokiStream{}
	entries := map[string][]entry{}
	for _, f := range batch {
		js, err := json.Marshal(f)
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode finding %s: %w", f.ID, err))
		}
		lb := make(map[string]string, len(s.labels)+3)
		for k, v := range s.labels {
			lb[k] = v
		}
		host := f.Host
		if host == "" {
			host = s.host
		}
		lb["host"], lb["cause"], lb["severity"] = host, string(f.Cause), string(f.Severity)
		if len(f.Scope.Sites) > 0 {
			lb["site"] = f.Scope.Sites[0] // the most affected site: one stream per site, not per combination
		}
		kj, _ := json.Marshal(lb) // sorted keys: a canonical stream key
		key := string(kj)
		if byKey[key] == nil {
			byKey[key] = &lokiStream{Stream: lb}
		}
		ts := f.End
		if ts.IsZero() {
			ts = f.Start
		}
		if ts.IsZero() {
			ts = s.now()
		}
		entries[key] = append(entries[key], entry{ts.UnixNano(), string(js)})
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	push := lokiPush{Streams: make([]lokiStream, 0, len(keys))}
	for _, k := range keys {
		es := entries[k]
		slices.SortStableFunc(es, func(a, b entry) int {
			switch {
			case a.ns < b.ns:
				return -1
			case a.ns > b.ns:
				return 1
			}
			return 0
		})
		st := byKey[k]
		for _, e := range es {
			st.Values = append(st.Values, [2]string{strconv.FormatInt(e.ns, 10), e.line})
		}
		push.Streams = append(push.Streams, *st)
	}
	b, err := json.Marshal(push)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode loki push: %w", err))
	}
	return b, nil
}

func (s *lokiSink) Send(ctx context.Context, batch []finding.Finding) error {
	if len(batch) == 0 {
		return nil
	}
	body, err := s.lokiBody(batch)
	if err != nil {
		return err
	}
	_, err = s.p.post(ctx, s.url, "application/json", body)
	return err
}

func (s *lokiSink) Close() error { s.p.client.CloseIdleConnections(); return nil }
