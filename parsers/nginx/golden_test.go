package nginx

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/internal/golden"
)

var goldenOpts = parsers.Options{Location: time.UTC, Ref: golden.Ref}

// customISOSpec is the log_format the lines in testdata/nginx_access/custom
// were written with (by nginx 1.22.1).
const customISOSpec = `$time_iso8601 $http_cf_connecting_ip $remote_addr $host "$request" $status $body_bytes_sent $request_time $upstream_response_time $upstream_status $upstream_addr $http_cf_ray $connection $pid "$http_user_agent"`

func TestGoldenAccessCombined(t *testing.T) {
	// combined, main and combined + key=value extras all read with Combined()
	golden.Run(t, "../testdata/nginx_access", NewAccess(Combined(), goldenOpts))
}

func TestGoldenAccessCustom(t *testing.T) {
	f, err := CompileFormat("custom", customISOSpec, EscapeDefault)
	if err != nil {
		t.Fatal(err)
	}
	golden.Run(t, "../testdata/nginx_access/custom", NewAccess(f, goldenOpts))
}

func TestGoldenAccessJSON(t *testing.T) {
	golden.Run(t, "../testdata/nginx_access/json", NewJSONAccess(goldenOpts))
}

func TestGoldenError(t *testing.T) {
	golden.Run(t, "../testdata/nginx_error", NewError(goldenOpts))
}
