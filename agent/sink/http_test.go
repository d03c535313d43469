package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// recorder is an in-process server that records requests and answers from
// a script (status, body); after the script it answers 200 okBody.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies [][]byte
	script [][2]string
	okBody string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		b, _ = io.ReadAll(zr)
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, r)
	rc.bodies = append(rc.bodies, b)
	status, body := "200", rc.okBody
	if len(rc.script) > 0 {
		status, body = rc.script[0][0], rc.script[0][1]
		rc.script = rc.script[1:]
	}
	rc.mu.Unlock()
	code := map[string]int{"200": 200, "204": 204, "400": 400, "429": 429, "503": 503}[status]
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func oneFinding(id, cause string, sev finding.Severity) finding.Finding {
	f := testFinding(id)
	f.Cause, f.Severity = "oom_kill", sev
	if cause != "" {
		f.Cause = causeOf(cause)
	}
	f.Evidence = nil
	f.Summary = "s"
	f.Remediation = ""
	return f
}

func TestLokiWireFormat(t *testing.T) {
	rc := &recorder{script: [][2]string{{"204", ""}}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := New(def(Config{Type: TypeLoki, URL: srv.URL + "/", Tenant: "team-a", Gzip: true, Labels: map[string]string{"env": "prod", "host": "ignored"}}), Deps{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	a := oneFinding("a", "", finding.SeverityCritical)
	b := oneFinding("b", "rate_limited", finding.SeverityInfo)
	b.Scope.Sites = []string{"shop.example.com", "blog.example.com"} // the first (most affected) is the label
	c := oneFinding("c", "", finding.SeverityCritical)
	c.End = c.End.Add(-1e9) // older: must come first in its stream
	if err := s.Send(context.Background(), []finding.Finding{a, b, c}); err != nil {
		t.Fatal(err)
	}
	r := rc.reqs[0]
	for k, want := range map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip", "X-Scope-OrgID": "team-a"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.Method != "POST" || r.URL.Path != "/loki/api/v1/push" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	line := func(f finding.Finding) string {
		b, _ := json.Marshal(f)
		q, _ := json.Marshal(string(b))
		return string(q)
	}
	want := `{"streams":[` +
		`{"stream":{"cause":"oom_kill","env":"prod","host":"web1.example.com","severity":"critical"},"values":[["1795168899000000000",` + line(c) + `],["1795168900000000000",` + line(a) + `]]},` +
		`{"stream":{"cause":"rate_limited","env":"prod","host":"web1.example.com","severity":"info","site":"shop.example.com"},"values":[["1795168900000000000",` + line(b) + `]]}]}`
	if string(rc.bodies[0]) != want {
		t.Errorf("body:\n got %s\nwant %s", rc.bodies[0], want)
	}
}

func TestElasticWireFormat(t *testing.T) {
	rc := &recorder{okBody: `{"took":3,"errors":false,"items":[{"create":{"_index":"logs-x","_id":"a","status":201}}]}`}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := New(def(Config{Type: TypeElasticsearch, URL: srv.URL, Index: "logs-x", APIKey: "a2V5OnNlY3JldA=="}), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	a := oneFinding("a", "", finding.SeverityCritical)
	if err := s.Send(context.Background(), []finding.Finding{a}); err != nil {
		t.Fatal(err)
	}
	r := rc.reqs[0]
	if r.Method != "POST" || r.URL.Path != "/_bulk" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-ndjson" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.Header.Get("Authorization"); got != "ApiKey a2V5OnNlY3JldA==" {
		t.Errorf("Authorization %q", got)
	}
	doc, _ := json.Marshal(a)
	want := `{"create":{"_id":"a","_index":"logs-x"}}` + "\n" + `{"@timestamp":"2026-11-20T10:01:40Z",` + string(doc[1:]) + "\n"
	if string(rc.bodies[0]) != want {
		t.Errorf("body:\n got %q\nwant %q", rc.bodies[0], want)
	}

	// Basic auth instead of an API key.
	s2, _ := New(def(Config{Type: TypeElasticsearch, URL: srv.URL, Username: "elastic", Password: "changeme"}), Deps{})
	s2.Send(context.Background(), []finding.Finding{a})
	if u, p, ok := rc.reqs[1].BasicAuth(); !ok || u != "elastic" || p != "changeme" {
		t.Errorf("basic auth = %q %q %v", u, p, ok)
	}
}

// TestElasticDelivery runs the Deliverer against a _bulk server that first
// answers 503, then 429, then 200 with per-item errors (one 429, one 400,
// one 409 = already indexed), then 200: every finding ends confirmed except
// the 400 one, which is dropped and counted, and the 429 item is resent
// alone.
func TestElasticDelivery(t *testing.T) {
	rc := &recorder{
		script: [][2]string{
			{"503", `{"error":"unavailable"}`},
			{"429", `{"error":"too many requests"}`},
			{"200", `{"took":5,"errors":true,"items":[` +
				`{"create":{"_index":"i","_id":"0","status":201}},` +
				`{"create":{"_index":"i","_id":"1","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected"}}},` +
				`{"create":{"_index":"i","_id":"2","status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [statuses]"}}},` +
				`{"create":{"_index":"i","_id":"3","status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}}]}`},
		},
		okBody: `{"took":1,"errors":false,"items":[{"create":{"_index":"i","_id":"1","status":201}}]}`,
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := New(def(Config{Type: TypeElasticsearch, URL: srv.URL, Index: "i"}), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	m, sp := runDeliverer(t, s, testBatch(4), 4)
	if sp.Len() != 0 {
		t.Fatalf("spool holds %d", sp.Len())
	}
	if len(rc.bodies) != 4 {
		t.Fatalf("%d requests, want 4 (503, 429, partial, resend)", len(rc.bodies))
	}
	if bytes.Equal(rc.bodies[0], rc.bodies[1]) == false || bytes.Equal(rc.bodies[1], rc.bodies[2]) == false {
		t.Error("retries of a failed batch must resend the same body")
	}
	last := string(rc.bodies[3])
	if strings.Count(last, `{"create":`) != 1 || !strings.Contains(last, `"_id":"5f1c2a9e-001"`) {
		t.Errorf("resend = %s, want only item 1", last)
	}
	if got := testutil.ToFloat64(m.Dropped.WithLabelValues("test", "permanent")); got != 1 {
		t.Errorf("dropped{permanent} = %v", got)
	}
	if got := testutil.ToFloat64(m.Sent); got != 3 {
		t.Errorf("sent = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.Retried); got != 3 {
		t.Errorf("retried = %v, want 3", got)
	}
}

// TestWholeRequestRejectionKeepsSpool: a receiver that refuses the whole
// request (HTTP 400: a wrong path, a tenant it does not take) is a
// configuration mistake. Nothing is dropped; the findings stay spooled,
// counted as rejected requests, and all arrive once the receiver accepts.
func TestWholeRequestRejectionKeepsSpool(t *testing.T) {
	okES := `{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}`
	for _, typ := range []string{TypeLoki, TypeElasticsearch, TypeHTTP} {
		rc := &recorder{script: [][2]string{{"400", `{"error":"bad"}`}, {"400", `{"error":"bad"}`}}, okBody: okES}
		srv := httptest.NewServer(rc)
		s, _ := New(def(Config{Type: typ, URL: srv.URL}), Deps{})
		m, sp := runDeliverer(t, s, testBatch(2), 10)
		srv.Close()
		dropped := testutil.ToFloat64(m.Dropped.WithLabelValues("test", "permanent"))
		if len(rc.reqs) != 3 || sp.Len() != 0 || dropped != 0 || testutil.ToFloat64(m.Sent) != 2 {
			t.Errorf("%s: %d requests (want 3: two refused, one accepted), spool %d, dropped %v, sent %v", typ, len(rc.reqs), sp.Len(),
				dropped, testutil.ToFloat64(m.Sent))
		}
		if got := testutil.ToFloat64(m.Rejected.WithLabelValues("test")); got != 2 {
			t.Errorf("%s: rejected requests = %v, want 2", typ, got)
		}
	}
}

func TestWebhookWireFormat(t *testing.T) {
	rc := &recorder{script: [][2]string{{"503", "down"}}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, _ := New(def(Config{Type: TypeHTTP, URL: srv.URL + "/hook", Headers: map[string]string{"X-Token": "t0k"}}), Deps{})
	batch := []finding.Finding{oneFinding("a", "", finding.SeverityCritical), oneFinding("b", "", finding.SeverityWarning)}
	if err := s.Send(context.Background(), batch); err == nil || IsPermanent(err) {
		t.Fatalf("503: err = %v, want retryable", err)
	}
	if err := s.Send(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r := rc.reqs[1]
	want, _ := json.Marshal(batch)
	if r.URL.Path != "/hook" || r.Header.Get("X-Token") != "t0k" || r.Header.Get("Content-Type") != "application/json" || string(rc.bodies[1]) != string(want) {
		t.Errorf("%s %v\n%s", r.URL.Path, r.Header, rc.bodies[1])
	}
}

func TestStatusClassification(t *testing.T) {
	for code, want := range map[int]string{200: "ok", 204: "ok", 400: "rejected", 413: "rejected", 422: "rejected",
		401: "rejected", 403: "rejected", 404: "rejected", 408: "retry", 429: "retry", 500: "retry", 502: "retry", 503: "retry"} {
		err := statusError(code, []byte("x"))
		var rej *RejectedError
		got := "retry"
		switch {
		case err == nil:
			got = "ok"
		case IsPermanent(err):
			got = "permanent"
		case errors.As(err, &rej):
			got = "rejected"
		}
		if got != want {
			t.Errorf("HTTP %d: %s, want %s", code, got, want)
		}
	}
}

// TestEndpointKeepsQuery: a receiver that takes parameters in the URL
// (VictoriaLogs: ?_time_field=@timestamp, ?_stream_fields=host) gets them,
// and the API path is appended to the path, not to the query.
func TestEndpointKeepsQuery(t *testing.T) {
	for _, c := range []struct {
		typ, path, query, wantPath string
	}{
		{TypeElasticsearch, "/insert/elasticsearch/", "_time_field=@timestamp&_msg_field=message", "/insert/elasticsearch/_bulk"},
		{TypeElasticsearch, "/es/_bulk", "pipeline=p", "/es/_bulk"},
		{TypeLoki, "/insert", "_stream_fields=host,cause", "/insert/loki/api/v1/push"},
		{TypeLoki, "/insert/loki/api/v1/push", "_msg_field=message", "/insert/loki/api/v1/push"},
	} {
		rc := &recorder{okBody: `{"errors":false,"items":[{"create":{"status":201}}]}`}
		srv := httptest.NewServer(rc)
		s, err := New(def(Config{Type: c.typ, URL: srv.URL + c.path + "?" + c.query}), Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), testBatch(1)); err != nil {
			t.Errorf("%s %s: %v", c.typ, c.path, err)
		}
		srv.Close()
		if len(rc.reqs) != 1 {
			t.Fatalf("%s: %d requests", c.typ, len(rc.reqs))
		}
		if u := rc.reqs[0].URL; u.Path != c.wantPath || u.RawQuery != c.query {
			t.Errorf("%s %s?%s: posted to %s?%s, want %s?%s", c.typ, c.path, c.query, u.Path, u.RawQuery, c.wantPath, c.query)
		}
	}
}
