package nginx

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

func TestError(t *testing.T) {
	p := NewError(parsers.Options{})
	const trailer = `, client: 203.0.113.7, server: example.com, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"`
	tests := []struct{ line, want string }{
		{
			`2026/11/20 10:01:02 [error] 1234#1234: *56 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream` + trailer,
			`{"signal":"connect_refused","kind":2,"level":5,"pid":1234,"tid":1234,"conn":56,"errno":111,"time":"2026-11-20T10:01:02Z","no_zone":true,
			  "message":"connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream",
			  "client":"203.0.113.7","host":"example.com","request":"GET /index.php HTTP/1.1","method":"GET","uri":"/index.php","protocol":"HTTP/1.1",
			  "upstream":"fastcgi://unix:/run/php/php8.2-fpm.sock:"}`,
		},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream timed out (110: Connection timed out) while reading response header from upstream` + trailer, `{"signal":"upstream_timed_out","errno":110}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream timed out (110: Operation timed out) while connecting to upstream` + trailer, `{"signal":"upstream_timed_out"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream timed out (110: Connection timed out) while reading upstream` + trailer, `{"signal":"upstream_timed_out"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 connect() failed (111: Connection refused) while connecting to upstream` + trailer, `{"signal":"connect_refused"}`},
		{`2026/11/20 10:01:02 [crit] 1#1: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream` + trailer, `{"signal":"connect_no_socket","level":6,"errno":2}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream` + trailer, `{"signal":"connect_again","errno":11}`},
		{`2026/11/20 10:01:02 [crit] 1#1: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream` + trailer, `{"signal":"connect_permission_denied"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 open() "/var/www/html/x" failed (13: Permission denied)` + trailer, `{"signal":null,"errno":13}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)` + trailer, `{"signal":null,"errno":2}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream prematurely closed connection while reading response header from upstream` + trailer, `{"signal":"upstream_prematurely_closed"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream prematurely closed FastCGI stdout while reading response header from upstream` + trailer, `{"signal":"upstream_prematurely_closed"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 recv() failed (104: Connection reset by peer) while reading response header from upstream` + trailer, `{"signal":"reset_by_peer","errno":104}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 readv() failed (104: Connection reset by peer) while reading upstream` + trailer, `{"signal":"reset_by_peer"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 writev() failed (104: Connection reset by peer) while sending request to upstream` + trailer, `{"signal":"reset_by_peer"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 sendfile() failed (104: Connection reset by peer) while sending request to upstream` + trailer, `{"signal":"reset_by_peer"}`},
		{`2026/11/20 10:01:02 [info] 1#1: *1 recv() failed (104: Connection reset by peer) while reading client request line, client: 1.2.3.4, server: 0.0.0.0:80`, `{"signal":null,"level":2,"client":"1.2.3.4"}`},
		{`2026/11/20 10:01:02 [info] 1#1: *1 writev() failed (104: Connection reset by peer) while sending to client` + trailer, `{"signal":null}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream sent too big header while reading response header from upstream` + trailer, `{"signal":"upstream_header_too_big"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream sent invalid header: "Bad\x01..." while reading response header from upstream` + trailer, `{"signal":"upstream_invalid_header"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream sent invalid status "abc" while reading response header from upstream` + trailer, `{"signal":"upstream_invalid_header"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream sent no valid HTTP/1.0 header while reading response header from upstream` + trailer, `{"signal":"upstream_invalid_header"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 upstream sent unsupported FastCGI protocol version: 72 while reading response header from upstream` + trailer, `{"signal":"upstream_invalid_header"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 no live upstreams while connecting to upstream` + trailer, `{"signal":"no_live_upstreams"}`},
		{`2026/11/20 10:01:02 [alert] 1#1: 1024 worker_connections are not enough`, `{"signal":"worker_connections_not_enough","level":6,"conn":null,"message":"1024 worker_connections are not enough"}`},
		{`2026/11/20 10:01:02 [alert] 1#1: *9 1024 worker_connections are not enough while connecting to upstream` + trailer, `{"signal":"worker_connections_not_enough","conn":9}`},
		{`2026/11/20 10:01:02 [crit] 1#1: accept4() failed (24: Too many open files)`, `{"signal":"too_many_open_files","errno":24}`},
		{`2026/11/20 10:01:02 [alert] 1#1: *3 socket() failed (24: Too many open files) while connecting to upstream` + trailer, `{"signal":"too_many_open_files"}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 limiting requests, excess: 10.500 by zone "one", client: 1.2.3.4, server: example.com, request: "GET / HTTP/1.1", host: "example.com"`, `{"signal":"limiting_requests","message":"limiting requests, excess: 10.500 by zone \"one\"","host":"example.com"}`},
		{`2026/11/20 10:01:02 [warn] 1#1: *1 delaying request, excess: 0.537, by zone "one", client: 1.2.3.4, server: example.com, request: "GET / HTTP/1.1", host: "example.com"`, `{"signal":null,"level":4}`},
		{`2026/11/20 10:01:02 [error] 1#1: *1 limiting connections by zone "addr", client: 1.2.3.4, server: example.com, request: "GET / HTTP/1.1", host: "example.com"`, `{"signal":"limiting_connections"}`},
		{`2026/11/20 10:01:02 [notice] 1#1: start worker processes`, `{"signal":"server_started","level":3}`},
		{`2026/11/20 10:01:02 [notice] 1#1: start worker process 1235`, `{"signal":null}`},
		{`2026/11/20 10:01:02 [notice] 1#1: using the "epoll" event method`, `{"signal":null}`},
		{`2026/11/20 10:01:02 [notice] 1#1: nginx/1.22.1`, `{"signal":null}`},
		{`2026/11/20 10:01:02 [notice] 1#1: signal process started`, `{"signal":null}`},
		{`2026/11/20 10:01:02 [notice] 1#1: exiting`, `{"signal":"server_stopping"}`},
		{`2026/11/20 10:01:02 [notice] 1#1: gracefully shutting down`, `{"signal":"server_stopping"}`},
		{`2026/11/20 10:01:02 [notice] 1#1: signal 15 (SIGTERM) received from 19306, exiting`, `{"signal":"server_stopping"}`},
		{`2026/11/20 10:01:02 [notice] 1#1: signal 3 (SIGQUIT) received from 1, shutting down`, `{"signal":"server_stopping"}`},
		{`2026/11/20 10:01:02 [notice] 1#1: exit`, `{"signal":null}`},
		// Captured from nginx 1.22.1 by examples/generate.sh: kill -SEGV of the
		// worker with requests in flight, worker_connections 16 under load.
		{`2026/12/03 08:29:21 [alert] 12574#12574: worker process 12577 exited on signal 11`, `{"signal":"server_child_signal","level":6,"child_pid":12577,"exit_signal":11}`},
		{`2026/11/20 10:01:02 [alert] 1#1: worker process 9839 exited on signal 6 (core dumped)`, `{"signal":"server_child_signal","child_pid":9839,"exit_signal":6}`},
		{`2026/12/03 08:29:24 [notice] 12574#12574: worker process 12796 exited with code 0`, `{"signal":null}`},
		{`2026/12/03 08:29:27 [alert] 12995#12995: 16 worker_connections are not enough`, `{"signal":"worker_connections_not_enough","value":16}`},
		{`2026/12/03 08:29:27 [warn] 12995#12995: 16 worker_connections are not enough, reusing connections`, `{"signal":"worker_connections_not_enough","level":4,"value":16}`},
		{`2026/12/03 08:29:34 [error] 13435#13435: *43 upstream prematurely closed connection while reading response header from upstream, client: 198.51.100.14, server: shop.example.com, request: "GET /report.php?range=365d HTTP/1.1", upstream: "http://127.0.0.1:19250/report.php?range=365d", host: "shop.example.com"`,
			`{"signal":"upstream_prematurely_closed","server":"shop.example.com","upstream":"http://127.0.0.1:19250/report.php?range=365d"}`},
		{
			`2026/11/20 10:01:02 [error] 1#1: *3 FastCGI sent in stderr: "PHP message: upstream timed out (110: x); connect() failed (111: Connection refused)" while reading response header from upstream` + trailer,
			`{"signal":null,"client":"203.0.113.7"}`,
		},
		{
			`2026/11/22 04:49:10 [error] 18628#18628: *56 open() "/tmp/www/missing.html" failed (2: No such file or directory), client: 127.0.0.1, server: , request: "GET /missing.html?q=%22x HTTP/1.1", host: "example.com", referrer: "https://example.com/a"b"`,
			`{"referer":"https://example.com/a\"b","host":"example.com","uri":"/missing.html?q=%22x"}`,
		},
		{`2026/11/20 10:01:02 [error] 1#1: *5 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Exception: boom in /var/www/index.php:6`, `{"conn":5,"client":null}`},
		{`Stack trace:`, `{"nomatch":true}`},
		{`  thrown in /var/www/index.php on line 6" while reading response header from upstream` + trailer, `{"nomatch":true}`},
		{`2026/02/31 10:01:02 [error] 1#1: *1 x`, `{"nomatch":true}`},
		{`2026/11/20 10:01:02 [error] 1: *1 no tid`, `{"nomatch":true}`},
		{`2026/11/20 10:01:02 error 1#1: *1 no brackets`, `{"nomatch":true}`},
	}
	for _, tt := range tests {
		checkSubset(t, p, tt.line, tt.want)
	}
}

func TestErrorLocation(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	ev, err := NewError(parsers.Options{Location: loc})([]byte(`2026/11/20 10:01:02 [notice] 1#1: exiting`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 20, 9, 1, 2, 0, time.UTC); !ev.Time.Equal(want) || !ev.NoZone {
		t.Errorf("Time = %v NoZone = %v, want %v and true", ev.Time, ev.NoZone, want)
	}
}
