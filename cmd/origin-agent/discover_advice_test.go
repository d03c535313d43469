package main

import (
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/discover"
)

func TestSlowlogAdvice(t *testing.T) {
	for _, tc := range []struct {
		pool discover.FPMPool
		want string
	}{
		{discover.FPMPool{}, "request_slowlog_timeout off: set it"},
		// php-fpm refuses a request_slowlog_timeout without a slowlog path.
		{discover.FPMPool{RequestSlowlogTimeout: 5 * time.Second}, "request_slowlog_timeout off: set it"},
		{discover.FPMPool{RequestSlowlogTimeout: 5 * time.Second, Slowlog: "/var/log/php8.2-fpm.slow.log"},
			"request_slowlog_timeout 5s, slowlog /var/log/php8.2-fpm.slow.log: findings name the slow script"},
	} {
		if got := slowlogAdvice(tc.pool); !strings.HasPrefix(got, tc.want) {
			t.Errorf("slowlogAdvice(%+v) = %q, want %q…", tc.pool, got, tc.want)
		}
	}
}
