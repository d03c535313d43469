#!/usr/bin/env bash
#
# generate.sh - make the incident logs under examples/ with real servers.
#
# Usage: sudo examples/generate.sh [--only NAME]... [--skip NAME]... [--out DIR] [OUTDIR]
#        sudo examples/generate.sh --list
#
# Each scenario starts its own nginx (or apache2) and php-fpm8.2 from config files
# written into a private temp dir. It never uses the distro services or anything in
# /etc/nginx, /etc/apache2 or /etc/php. It drives HTTP load at them with curl on
# 127.0.0.1: healthy traffic, then one staged incident, then healthy traffic again.
# Then it copies the logs those servers wrote into OUTDIR/<scenario>/:
#
#   access.log   nginx "combined" (one scenario uses "main_ext" and ships its nginx.conf),
#                or the apache "combined" that Debian's apache2.conf defines
#   error.log    the nginx (level notice) or apache (LogLevel warn) error log
#   php-fpm.log  the php-fpm master log, log_level = notice
#   kern.log     nginx-oom-kill only: `dmesg --time-format iso` lines from the
#                scenario's time window that belong to this script's memory cgroup
#   nginx.conf   nginx-app-503-upstream-status only: the config that wrote access.log
#
# OUTDIR defaults to the directory of this script. Re-running replaces
# OUTDIR/<scenario> for every scenario it runs and touches nothing else there.
# After each scenario the script checks the key evidence lines were written. At the
# end it prints the status counts of each access log. It exits 1 if any evidence
# is missing.
#
# Needs: root on Debian 12 with nginx, apache2, php8.2-fpm and curl installed (the
# services need not run), and the cgroup memory controller (v1 at
# /sys/fs/cgroup/memory, or v2). Ports: the first free 127.0.0.1 port at or above
# 18100+10*i (HTTP) and 19100+10*i (php-fpm over TCP) for scenario i. Unix sockets
# live in the temp dir. It finishes in about five minutes, two of them in
# nginx-cloudflare-timeout (it waits out Cloudflare's 100 s): run that one
# beside the others (--only nginx-cloudflare-timeout, --skip it in a second
# run) to save them; two runs never share ports, temp dirs or cgroups.
#
# On exit (also on error or Ctrl-C) it stops only the processes it started, by
# PID. It also removes its memory cgroup and its temp dir.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Order matters only for the summary. Keep README.md and expected.txt in sync.
SCENARIOS=(
	healthy
	nginx-pool-exhausted
	nginx-fpm-down-socket
	nginx-fpm-down-tcp
	nginx-oom-kill
	nginx-request-terminated
	nginx-worker-segfault
	nginx-header-too-big
	nginx-upstream-timeout
	nginx-app-502
	nginx-app-503-upstream-status
	apache-fpm-down
	apache-timeout
	nginx-worker-crash
	nginx-worker-connections
	nginx-http-backend-killed
	apache-child-segfault
	nginx-cloudflare-timeout
	nginx-two-pools
)

FPM_BIN=${FPM_BIN:-php-fpm8.2}
NGINX_BIN=${NGINX_BIN:-nginx}
APACHE_BIN=${APACHE_BIN:-apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
PYTHON_BIN=${PYTHON_BIN:-python3}

usage() {
	sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'
	echo "Scenarios: ${SCENARIOS[*]}"
}

die() {
	echo "generate.sh: $*" >&2
	exit 1
}

log() {
	printf '%s [%s] %s\n' "$(date +%T)" "${SCN:-setup}" "$*"
}

# ---------------------------------------------------------------- arguments

OUT=$SCRIPT_DIR
ONLY=()
SKIP=()
while (($#)); do
	case $1 in
	--only)
		(($# >= 2)) || die "--only needs a scenario name"
		ONLY+=("$2")
		shift 2
		;;
	--only=*)
		ONLY+=("${1#--only=}")
		shift
		;;
	--skip)
		(($# >= 2)) || die "--skip needs a scenario name"
		SKIP+=("$2")
		shift 2
		;;
	--out)
		(($# >= 2)) || die "--out needs a directory"
		OUT=$2
		shift 2
		;;
	--out=*)
		OUT=${1#--out=}
		shift
		;;
	--list)
		printf '%s\n' "${SCENARIOS[@]}"
		exit 0
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*) die "unknown option $1 (try --help)" ;;
	*)
		OUT=$1
		shift
		;;
	esac
done

RUN_LIST=()
if ((${#ONLY[@]})); then
	for want in "${ONLY[@]}"; do
		found=
		for s in "${SCENARIOS[@]}"; do [[ $s == "$want" ]] && found=1; done
		[[ -n $found ]] || die "unknown scenario '$want'; one of: ${SCENARIOS[*]}"
		RUN_LIST+=("$want")
	done
else
	for s in "${SCENARIOS[@]}"; do
		skip=
		for k in "${SKIP[@]}"; do [[ $s == "$k" ]] && skip=1; done
		[[ -n $skip ]] || RUN_LIST+=("$s")
	done
fi

# ---------------------------------------------------------------- preflight

((EUID == 0)) || die "must run as root (php-fpm pools switch to www-data, the OOM scenario makes a memory cgroup)"
for cmd in "$FPM_BIN" "$NGINX_BIN" "$APACHE_BIN" "$PYTHON_BIN" curl ss dmesg awk pgrep; do
	command -v "$cmd" >/dev/null || die "$cmd not found; on Debian 12: apt-get install nginx apache2 php8.2-fpm python3 curl iproute2 procps"
done
id www-data >/dev/null 2>&1 || die "user www-data does not exist"
mkdir -p "$OUT" || die "cannot create output dir $OUT"
OUT=$(cd "$OUT" && pwd)

WORK=$(mktemp -d /tmp/origin-examples.XXXXXX)
chmod 755 "$WORK" # php-fpm workers and nginx workers (www-data) read the docroot below it
WWW=$WORK/www
FLAGS=$WORK/flags # the demo app's switches: a file present = incident on
BUSY=$WORK/busy   # busy-<pid> files: which php-fpm worker serves which slow request

# Everything the script started, so the EXIT trap stops exactly that.
BG_PIDS=()       # curl load generators of the current scenario
FPM_PID=         # php-fpm master (a child of this script, run with -F)
NGINX_PID=       # nginx master (a child of this script, "daemon off")
APACHE_PIDFILE=  # apache2 daemonizes; its PidFile says which process is ours
CGROUP=          # memory cgroup dir made for nginx-oom-kill
APP_PID=         # the HTTP app server of nginx-http-backend-killed (python3)
FAILURES=()      # "scenario: missing evidence" lines
SCN=

# wait_gone PID SECONDS: true once PID has exited (polls, bounded).
wait_gone() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# stop_pid PID SIGNAL: signal a process this script started, wait for it, SIGKILL after 10 s.
stop_pid() {
	local pid=$1 sig=$2
	[[ -n $pid ]] || return 0
	kill -"$sig" "$pid" 2>/dev/null || return 0
	if ! wait_gone "$pid" 10; then
		log "pid $pid ignored SIG$sig for 10 s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 5 || true
	fi
	wait "$pid" 2>/dev/null || true
}

remove_cgroup() {
	[[ -n $CGROUP && -d $CGROUP ]] || return 0
	local i pid
	# Only processes this script put there (php-fpm and its workers) can be inside.
	for ((i = 0; i < 50; i++)); do
		rmdir "$CGROUP" 2>/dev/null && break
		while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$CGROUP/cgroup.procs"
		sleep 0.1
	done
	if [[ -d $CGROUP ]]; then echo "generate.sh: could not remove cgroup $CGROUP" >&2; fi
	CGROUP=
}

stop_all() {
	local pid
	for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	BG_PIDS=()
	stop_nginx
	stop_apache
	stop_fpm TERM
	stop_pid "$APP_PID" TERM
	APP_PID=
	remove_cgroup
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	stop_all
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port BASE: the first port >= BASE nobody listens on (TCP, any address).
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	die "no free port in $1..$(($1 + 199))"
}

# ---------------------------------------------------------------- the demo app

write_app() {
	mkdir -p "$WWW"/{api,account,admin,static} "$FLAGS" "$BUSY"
	chmod 1777 "$BUSY"
	cat >"$WWW/_config.php" <<EOF
<?php
const FLAG_DIR = '$FLAGS';
const BUSY_DIR = '$BUSY';
EOF
	cat >"$WWW/_app.php" <<'EOF'
<?php
// Bootstrap of the demo shop. generate.sh stages incidents by creating files in FLAG_DIR.
require __DIR__ . '/_config.php';

function flag(string $name): string|false
{
    return @file_get_contents(FLAG_DIR . '/' . $name);
}

// busy records which worker serves this request, so the generator can signal it.
function busy(): void
{
    $f = BUSY_DIR . '/busy-' . getmypid();
    file_put_contents($f, $_SERVER['REQUEST_URI'] ?? '');
    register_shutdown_function(static function () use ($f) { @unlink($f); });
}

// slow sleeps for the seconds written in the named flag (a slow database, a stuck API).
function slow(string $name): void
{
    $s = flag($name);
    usleep((int) (($s === false ? 0.05 : (float) $s) * 1e6));
}

function page(string $title, int $paragraphs): void
{
    header('Content-Type: text/html; charset=UTF-8');
    echo "<!doctype html>\n<title>$title</title>\n<h1>$title</h1>\n";
    echo str_repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n", $paragraphs);
}

function json(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($body), "\n";
}

if (flag('maintenance') !== false) {
    http_response_code(503);
    header('Retry-After: 120');
    page('Down for maintenance', 1);
    exit;
}
EOF
	cat >"$WWW/index.php" <<'EOF'
<?php
require __DIR__ . '/_app.php';
usleep(mt_rand(2000, 8000));
page('Shop', mt_rand(8, 14));
EOF
	cat >"$WWW/product.php" <<'EOF'
<?php
require __DIR__ . '/_app.php';
usleep(mt_rand(3000, 15000));
page('Product ' . (int) ($_GET['id'] ?? 0), mt_rand(10, 20));
EOF
	cat >"$WWW/category.php" <<'EOF'
<?php
require __DIR__ . '/_app.php';
usleep(mt_rand(5000, 20000));
page('Category ' . htmlspecialchars($_GET['slug'] ?? 'all'), mt_rand(15, 25));
EOF
	# $q is undefined without ?q=: a PHP warning that reaches the web server's error
	# log through FastCGI stderr, as sloppy real code does. It is noise, not an incident.
	cat >"$WWW/search.php" <<'EOF'
<?php
require __DIR__ . '/_app.php';
if (isset($_GET['q'])) {
    $q = $_GET['q'];
}
usleep(mt_rand(10000, 30000));
page('Search: ' . htmlspecialchars((string) $q), 6);
EOF
	cat >"$WWW/report.php" <<'EOF'
<?php
require __DIR__ . '/_app.php';
busy();
slow('report_delay');
page('Sales report ' . htmlspecialchars($_GET['range'] ?? '7d'), 40);
EOF
	cat >"$WWW/api/cart.php" <<'EOF'
<?php
require dirname(__DIR__) . '/_app.php';
usleep(mt_rand(2000, 6000));
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    json(200, ['ok' => true, 'sku' => (int) ($_POST['sku'] ?? 0), 'items' => mt_rand(1, 5)]);
} else {
    json(200, ['items' => mt_rand(0, 5), 'total' => mt_rand(0, 50000) / 100]);
}
EOF
	cat >"$WWW/api/checkout.php" <<'EOF'
<?php
require dirname(__DIR__) . '/_app.php';
usleep(mt_rand(5000, 20000));
if (flag('checkout_down') !== false) {
    // The payment provider is down: the app itself answers 502.
    json(502, ['error' => 'payment gateway unavailable', 'retry' => true]);
    exit;
}
json(200, ['order' => mt_rand(100000, 999999), 'status' => 'paid']);
EOF
	cat >"$WWW/api/stock.php" <<'EOF'
<?php
require dirname(__DIR__) . '/_app.php';
usleep(mt_rand(2000, 6000));
if (flag('stock_down') !== false) {
    header('Retry-After: 30');
    json(503, ['error' => 'inventory service unavailable']);
    exit;
}
json(200, ['sku' => (int) ($_GET['sku'] ?? 0), 'in_stock' => mt_rand(0, 40)]);
EOF
	cat >"$WWW/account/login.php" <<'EOF'
<?php
require dirname(__DIR__) . '/_app.php';
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    page('Sign in', 2);
    exit;
}
// A release that stored the whole session in a cookie: a 16 KB Set-Cookie header.
$session = flag('big_cookie') !== false ? str_repeat(bin2hex(random_bytes(512)), 16) : bin2hex(random_bytes(16));
setcookie('shop_session', $session, ['path' => '/', 'httponly' => true, 'secure' => true]);
header('Location: /account/', true, 302);
EOF
	cat >"$WWW/admin/export.php" <<'EOF'
<?php
require dirname(__DIR__) . '/_app.php';
busy();
slow('export_delay');
header('Content-Type: text/csv');
echo "order,total\n", str_repeat("100042,19.99\n", 200);
EOF
	# Memory hog: 8 MB strings until 640 MB; with memory_limit = -1 only the kernel stops it.
	cat >"$WWW/admin/import.php" <<'EOF'
<?php
require dirname(__DIR__) . '/_app.php';
busy();
$rows = [];
for ($i = 0; $i < 80; $i++) {
    $rows[] = str_repeat(chr(65 + $i % 26), 8 << 20);
    usleep(5000);
}
page('Imported ' . count($rows) . ' batches', 2);
EOF
	printf 'User-agent: *\nDisallow: /admin/\n' >"$WWW/robots.txt"
	printf 'body{font-family:sans-serif}\n%.0s' {1..40} >"$WWW/static/app.css"
	printf 'console.log("shop");\n%.0s' {1..60} >"$WWW/static/app.js"
	head -c 3000 /dev/urandom >"$WWW/static/logo.png"
	head -c 318 /dev/urandom >"$WWW/favicon.ico"
	chmod -R a+rX "$WWW"
}

# ---------------------------------------------------------------- php-fpm

# pool_dynamic MAX START MINSPARE MAXSPARE: pm lines of a dynamic pool.
pool_dynamic() {
	printf 'pm = dynamic\npm.max_children = %s\npm.start_servers = %s\npm.min_spare_servers = %s\npm.max_spare_servers = %s\n' "$@"
}

# fpm_conf LISTEN POOL_LINES: write the scenario's php-fpm.conf.
fpm_conf() {
	mkdir -p "$D/fpm"
	cat >"$D/fpm/php-fpm.conf" <<EOF
; php-fpm for scenario $SCN, written by examples/generate.sh
[global]
pid = $D/fpm/php-fpm.pid
error_log = $D/logs/php-fpm.log
log_level = notice
daemonize = no
process_control_timeout = 10s

[www]
user = www-data
group = www-data
listen = $1
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
$2
EOF
	FPM_LISTEN=$1
}

# start_fpm: start php-fpm from $D/fpm/php-fpm.conf (inside $CGROUP when set) and wait until it listens.
start_fpm() {
	local conf=$D/fpm/php-fpm.conf
	"$FPM_BIN" -t -y "$conf" >"$D/fpm/test.out" 2>&1 || die "php-fpm rejects $conf: $(cat "$D/fpm/test.out")"
	if [[ -n $CGROUP ]]; then
		# The master joins the cgroup before exec, so every worker it forks starts inside it.
		(
			ulimit -c 0
			echo "$BASHPID" >"$CGROUP/cgroup.procs"
			exec "$FPM_BIN" -F -y "$conf"
		) >>"$D/fpm/stderr.out" 2>&1 &
	else
		(
			ulimit -c 0 # no core files from the SIGSEGV scenario
			exec "$FPM_BIN" -F -y "$conf"
		) >>"$D/fpm/stderr.out" 2>&1 &
	fi
	FPM_PID=$!
	wait_listen "$FPM_LISTEN" "$FPM_PID" "php-fpm" "$D/fpm/stderr.out"
}

# stop_fpm SIGNAL: TERM is what `systemctl stop php8.2-fpm` sends.
stop_fpm() {
	stop_pid "$FPM_PID" "$1"
	FPM_PID=
}

# wait_listen ADDR PID NAME LOGFILE: poll (bounded) until ADDR (unix path or host:port) accepts.
wait_listen() {
	local addr=$1 pid=$2 name=$3 logf=$4 i
	for ((i = 0; i < 100; i++)); do
		if [[ $addr == /* ]]; then
			[[ -S $addr ]] && return 0
		elif ss -Hltn "sport = :${addr##*:}" | grep -q .; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || die "$name exited at start: $(tail -n 5 "$logf" 2>/dev/null)"
		sleep 0.1
	done
	die "$name did not listen on $addr within 10 s: $(tail -n 5 "$logf" 2>/dev/null)"
}

# ---------------------------------------------------------------- HTTP app server

# start_app PORT: a small threaded HTTP app server (as gunicorn or node would
# be) on 127.0.0.1:PORT that answers every path; /report.php sleeps for the
# seconds in the report_delay flag.
start_app() {
	APP_PORT=$1
	cat >"$D/app.py" <<'EOF'
import http.server, sys, time

FLAGS = sys.argv[2]


class Shop(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer()

    def answer(self):
        if self.path.startswith("/report.php"):
            try:
                with open(FLAGS + "/report_delay") as f:
                    time.sleep(float(f.read()))
            except OSError:
                pass
        body = b"<!doctype html><title>Shop</title>\n" + b"<p>Lorem ipsum dolor sit amet.</p>\n" * 12
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Shop).serve_forever()
EOF
	"$PYTHON_BIN" "$D/app.py" "$APP_PORT" "$FLAGS" >>"$D/app.out" 2>&1 &
	APP_PID=$!
	wait_listen "127.0.0.1:$APP_PORT" "$APP_PID" "app server" "$D/app.out"
}

# ---------------------------------------------------------------- nginx

# nginx_conf UPSTREAM LOGFORMAT EXTRA: write $D/nginx/nginx.conf.
# UPSTREAM is a fastcgi_pass target, or an http:// URL for an HTTP app server
# (then the whole site is proxy_pass'ed to it); LOGFORMAT "combined",
# "main_ext" or "main_cf" (main_ext + cf_ray="$http_cf_ray"); EXTRA more
# directives for the PHP (or proxied) location. NGX_CONNS sets
# worker_connections (512), NGX_ERRLEVEL the error_log level (notice).
nginx_conf() {
	local upstream=$1 fmt=$2 extra=${3-} formats= cf= loc
	mkdir -p "$D/nginx/tmp"
	if [[ $fmt == main_cf ]]; then
		cf=' cf_ray="$http_cf_ray"'
	fi
	if [[ $fmt == main_ext || $fmt == main_cf ]]; then
		formats='log_format '$fmt' '\''$remote_addr - $remote_user [$time_local] "$request" '\''
                    '\''$status $body_bytes_sent "$http_referer" "$http_user_agent" '\''
                    '\''"$http_x_forwarded_for" rt=$request_time uct="$upstream_connect_time" '\''
                    '\''uht="$upstream_header_time" urt="$upstream_response_time" '\''
                    '\''us="$upstream_status" ua="$upstream_addr"'$cf\'';'
	fi
	if [[ $upstream == http://* ]]; then
		loc="location / {
            proxy_pass $upstream;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            $extra
        }

        location /static/ {
        }"
	else
		loc="location / {
            try_files \$uri \$uri/ =404;
        }

        location ~ \.php\$ {
            try_files \$uri =404;
            fastcgi_pass $upstream;
            fastcgi_index index.php;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param CONTENT_TYPE \$content_type;
            fastcgi_param CONTENT_LENGTH \$content_length;
            fastcgi_param SCRIPT_NAME \$fastcgi_script_name;
            fastcgi_param REQUEST_URI \$request_uri;
            fastcgi_param DOCUMENT_URI \$document_uri;
            fastcgi_param DOCUMENT_ROOT \$document_root;
            fastcgi_param SERVER_PROTOCOL \$server_protocol;
            fastcgi_param REMOTE_ADDR \$remote_addr;
            fastcgi_param REMOTE_PORT \$remote_port;
            fastcgi_param SERVER_ADDR \$server_addr;
            fastcgi_param SERVER_PORT \$server_port;
            fastcgi_param SERVER_NAME \$server_name;
            fastcgi_param HTTPS on;
            $extra
        }"
	fi
	cat >"$D/nginx/nginx.conf" <<EOF
# nginx for scenario $SCN, written by examples/generate.sh
user www-data;
worker_processes 1;
daemon off;
pid $D/nginx/nginx.pid;
error_log $D/logs/error.log ${NGX_ERRLEVEL:-notice};

events {
    worker_connections ${NGX_CONNS:-512};
}

http {
    types {
        text/html html;
        text/css css;
        text/plain txt;
        application/javascript js;
        image/png png;
        image/x-icon ico;
    }
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    server_tokens off;
    client_body_temp_path $D/nginx/tmp/body;
    proxy_temp_path $D/nginx/tmp/proxy;
    fastcgi_temp_path $D/nginx/tmp/fastcgi;
    uwsgi_temp_path $D/nginx/tmp/uwsgi;
    scgi_temp_path $D/nginx/tmp/scgi;

    # Behind Cloudflare: the visitor's address comes from CF-Connecting-IP.
    set_real_ip_from 127.0.0.1;
    real_ip_header CF-Connecting-IP;

    $formats
    access_log $D/logs/access.log $fmt;

    server {
        listen 127.0.0.1:$HTTP_PORT;
        server_name shop.example.com;
        root $WWW;
        index index.php index.html;

        location ~ /\. {
            deny all;
        }

        $loc
    }
}
EOF
}

start_nginx() {
	local conf=$D/nginx/nginx.conf
	"$NGINX_BIN" -t -p "$D/nginx/" -c "$conf" >"$D/nginx/test.out" 2>&1 || die "nginx rejects $conf: $(cat "$D/nginx/test.out")"
	"$NGINX_BIN" -p "$D/nginx/" -c "$conf" >>"$D/nginx/stderr.out" 2>&1 &
	NGINX_PID=$!
	wait_listen "127.0.0.1:$HTTP_PORT" "$NGINX_PID" nginx "$D/nginx/stderr.out"
}

stop_nginx() {
	stop_pid "$NGINX_PID" QUIT # graceful, like `systemctl stop nginx`
	NGINX_PID=
}

# ---------------------------------------------------------------- apache

# apache_conf HANDLER EXTRA: write $D/apache/apache2.conf; HANDLER is the
# SetHandler target for .php files (proxy:unix:SOCK|fcgi://localhost or proxy:fcgi://HOST:PORT).
apache_conf() {
	local m=$APACHE_MODULES
	mkdir -p "$D/apache/run"
	cat >"$D/apache/apache2.conf" <<EOF
# apache2 for scenario $SCN, written by examples/generate.sh
ServerRoot "$D/apache"
ServerName shop.example.com
Listen 127.0.0.1:$HTTP_PORT
PidFile "$D/apache/run/apache2.pid"
DefaultRuntimeDir "$D/apache/run"

LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule proxy_module $m/mod_proxy.so
LoadModule proxy_fcgi_module $m/mod_proxy_fcgi.so
LoadModule mime_module $m/mod_mime.so
LoadModule dir_module $m/mod_dir.so
LoadModule setenvif_module $m/mod_setenvif.so
# Debian builds log_config and unixd into the binary; load them only where they are modules.
<IfModule !log_config_module>
    LoadModule log_config_module $m/mod_log_config.so
</IfModule>
<IfModule !unixd_module>
    LoadModule unixd_module $m/mod_unixd.so
</IfModule>

User www-data
Group www-data
StartServers 1
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100
Timeout 30
KeepAlive On

ErrorLog "$D/logs/error.log"
LogLevel warn
# Debian's apache2.conf "combined" (%O: bytes sent including headers).
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog "$D/logs/access.log" combined

TypesConfig /etc/mime.types
DocumentRoot "$WWW"
DirectoryIndex index.php index.html
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$WWW">
    Require all granted
</Directory>
<FilesMatch "^\.">
    Require all denied
</FilesMatch>
# As Debian's conf-available/php8.2-fpm.conf does it.
<FilesMatch ".+\.php$">
    SetHandler "$1"
</FilesMatch>
${2-}
EOF
}

start_apache() {
	local conf=$D/apache/apache2.conf i pid=
	APACHE_PIDFILE=$D/apache/run/apache2.pid
	"$APACHE_BIN" -t -d "$D/apache" -f "$conf" >"$D/apache/test.out" 2>&1 || die "apache2 rejects $conf: $(cat "$D/apache/test.out")"
	"$APACHE_BIN" -d "$D/apache" -f "$conf" -k start >>"$D/apache/stderr.out" 2>&1 || die "apache2 did not start: $(cat "$D/apache/stderr.out")"
	for ((i = 0; i < 100; i++)); do
		[[ -s $APACHE_PIDFILE ]] && pid=$(<"$APACHE_PIDFILE") && break
		sleep 0.1
	done
	[[ -n $pid ]] || die "apache2 wrote no PidFile $APACHE_PIDFILE: $(tail -n 5 "$D/logs/error.log" 2>/dev/null)"
	wait_listen "127.0.0.1:$HTTP_PORT" "$pid" apache2 "$D/logs/error.log"
}

stop_apache() {
	[[ -n $APACHE_PIDFILE && -s $APACHE_PIDFILE ]] || return 0
	local pid
	pid=$(<"$APACHE_PIDFILE")
	stop_pid "$pid" TERM # what `apache2ctl stop` sends
	APACHE_PIDFILE=
}

# ---------------------------------------------------------------- traffic

# Visitors as Cloudflare forwards them. Addresses are from the documentation ranges.
CLIENT_IPS=(
	203.0.113.7 203.0.113.45 203.0.113.88 203.0.113.150 203.0.113.201
	198.51.100.14 198.51.100.23 198.51.100.67 198.51.100.99 198.51.100.180
	192.0.2.10 192.0.2.33 192.0.2.77 192.0.2.140 192.0.2.222
	2001:db8:85a3::8a2e:370:7334 2001:db8:1f70::999:de8:7648:6e8 2001:db8:4::21
)
USER_AGENTS=(
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
)
COLOS=(FRA AMS LHR CDG IAD EWR SJC NRT SIN)
COUNTRIES=(DE NL GB FR US US US JP SG)
WORDS=(shoes red+dress jacket "linen shirt" socks boots "gift card" hat)
SLUGS=(women men kids sale new-arrivals accessories)

# add_request FILE METHOD PATH [BODY]: append one transfer to a curl config file.
add_request() {
	local f=$1 method=$2 path=$3 body=${4-} i ray
	i=$((RANDOM % ${#CLIENT_IPS[@]}))
	printf -v ray '%04x%04x%04x%04x-%s' $RANDOM $RANDOM $RANDOM $RANDOM "${COLOS[i % ${#COLOS[@]}]}"
	{
		if [[ -s $f ]]; then echo next; fi
		printf 'url = "%s%s"\n' "$BASE" "${path// /+}"
		echo 'output = "/dev/null"'
		printf 'max-time = %s\n' "${MAX_TIME:-20}"
		printf 'user-agent = "%s"\n' "${USER_AGENTS[i % ${#USER_AGENTS[@]}]}"
		printf 'header = "Host: %s"\n' "${REQ_HOST:-shop.example.com}"
		printf 'header = "CF-Connecting-IP: %s"\n' "${CLIENT_IPS[i]}"
		printf 'header = "X-Forwarded-For: %s"\n' "${CLIENT_IPS[i]}"
		echo 'header = "X-Forwarded-Proto: https"'
		printf 'header = "CF-Ray: %s"\n' "$ray"
		printf 'header = "CF-IPCountry: %s"\n' "${COUNTRIES[i % ${#COUNTRIES[@]}]}"
		echo 'header = "Accept-Encoding: gzip, br"'
		if ((RANDOM % 3)); then echo 'referer = "https://shop.example.com/"'; fi
		if [[ $method == POST ]]; then printf 'data = "%s"\n' "$body"; fi
	} >>"$f"
}

# add_healthy FILE N: N requests of an ordinary day: pages, API calls, static files, bots, scanners.
add_healthy() {
	local f=$1 n=$2 k r
	for ((k = 0; k < n; k++)); do
		r=$((RANDOM % 100))
		if ((r < 14)); then
			add_request "$f" GET /
		elif ((r < 32)); then
			add_request "$f" GET "/product.php?id=$((1000 + RANDOM % 400))"
		elif ((r < 40)); then
			add_request "$f" GET "/category.php?slug=${SLUGS[RANDOM % ${#SLUGS[@]}]}&page=$((1 + RANDOM % 4))"
		elif ((r < 46)); then
			add_request "$f" GET "/search.php?q=${WORDS[RANDOM % ${#WORDS[@]}]}"
		elif ((r < 47)); then
			add_request "$f" GET /search.php
		elif ((r < 52)); then
			add_request "$f" GET /api/cart.php
		elif ((r < 56)); then
			add_request "$f" POST /api/cart.php "sku=$((1000 + RANDOM % 400))&qty=1"
		elif ((r < 58)); then
			add_request "$f" POST /api/checkout.php "cart=$RANDOM&method=card"
		elif ((r < 60)); then
			add_request "$f" GET "/api/stock.php?sku=$((1000 + RANDOM % 400))"
		elif ((r < 63)); then
			add_request "$f" GET /account/login.php
		elif ((r < 65)); then
			add_request "$f" POST /account/login.php "email=user$RANDOM%40example.com&password=x"
		elif ((r < 77)); then
			local s=(app.css app.js logo.png)
			add_request "$f" GET "/static/${s[RANDOM % 3]}?v=3"
		elif ((r < 80)); then
			add_request "$f" GET /robots.txt
		elif ((r < 83)); then
			add_request "$f" GET /favicon.ico
		elif ((r < 85)); then
			add_request "$f" GET /wp-login.php
		elif ((r < 86)); then
			add_request "$f" GET /.env
		elif ((r < 87)); then
			add_request "$f" POST /xmlrpc.php "<methodCall><methodName>system.listMethods</methodName></methodCall>"
		elif ((r < 88)); then
			add_request "$f" GET /old-catalog.html
		else
			add_request "$f" GET "/product.php?id=$((1000 + RANDOM % 40))"
		fi
	done
}

# curl_bg FILE serial RATE | FILE parallel N: run the transfers of a curl config file in
# the background; curl itself (not a subshell) is the process recorded in BG_PIDS.
curl_bg() {
	if [[ $2 == serial ]]; then
		curl -s --rate "$3/s" -K "$1" >/dev/null 2>&1 &
	else
		curl -s -Z --parallel-immediate --parallel-max "$3" -K "$1" >/dev/null 2>&1 &
	fi
	BG_PIDS+=($!)
}

NCONF=0
new_config() {
	NCONF=$((NCONF + 1))
	CONF=$D/load/$NCONF.curlrc
	mkdir -p "$D/load"
	: >"$CONF"
}

# healthy N: N ordinary requests, one after another, 40 per second (blocks).
healthy() {
	new_config
	add_healthy "$CONF" "$1"
	curl -s --rate 40/s -K "$CONF" >/dev/null 2>&1 || true
}

# traffic STREAMS N RATE: STREAMS visitors in the background, each N ordinary requests at RATE/s.
traffic() {
	local s
	for ((s = 0; s < $1; s++)); do
		new_config
		add_healthy "$CONF" "$2"
		curl_bg "$CONF" serial "$3"
	done
}

# background MODE ARG: run $CONF (built by the caller) in the background.
background() {
	curl_bg "$CONF" "$1" "$2"
}

traffic_wait() {
	local pid
	for pid in "${BG_PIDS[@]}"; do wait "$pid" || true; done
	BG_PIDS=()
}

# wait_idle SECONDS: wait (bounded) until no php-fpm worker is inside a busy() request.
wait_idle() {
	local i f pid left
	for ((i = 0; i < $1 * 10; i++)); do
		left=0
		for f in "$BUSY"/busy-*; do
			[[ -e $f ]] || continue
			pid=${f##*-}
			if kill -0 "$pid" 2>/dev/null; then left=1; else rm -f "$f"; fi
		done
		((left)) || return 0
		sleep 0.1
	done
	log "workers still busy after $1 s; going on"
}

# busy_pids PATTERN: PIDs of workers now serving a busy() request whose URI matches PATTERN.
busy_pids() {
	local f
	for f in "$BUSY"/busy-*; do
		[[ -e $f ]] || continue
		if grep -q -- "$1" "$f" 2>/dev/null; then echo "${f##*-}"; fi
	done
	return 0
}

set_flag() { printf '%s' "${2-1}" >"$FLAGS/$1"; }
clear_flags() { rm -f "$FLAGS"/*; }

# ---------------------------------------------------------------- kernel log

# cgroup_make NAME LIMIT_BYTES: a memory cgroup (v1 or v2) for the php-fpm of one scenario.
cgroup_make() {
	local name=$1 limit=$2
	if [[ -d /sys/fs/cgroup/memory && ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
		CGROUP=/sys/fs/cgroup/memory/$name
		mkdir "$CGROUP" || die "cannot create memory cgroup $CGROUP"
		echo "$limit" >"$CGROUP/memory.limit_in_bytes"
	elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
		grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
			echo +memory >/sys/fs/cgroup/cgroup.subtree_control ||
			die "cannot enable the memory controller in /sys/fs/cgroup"
		CGROUP=/sys/fs/cgroup/$name
		mkdir "$CGROUP" || die "cannot create cgroup $CGROUP"
		echo "$limit" >"$CGROUP/memory.max"
		echo 0 >"$CGROUP/memory.swap.max" 2>/dev/null || true
	else
		die "no cgroup memory controller found under /sys/fs/cgroup"
	fi
}

# kern_log FROM TO CGNAME: kernel lines from FROM..TO (UTC, %FT%T) that belong to OOM kills
# in cgroup CGNAME: the whole report from "invoked oom-killer" to "Killed process", and the
# oom_reaper line of each killed PID. Kills made by anything else on the host are left out.
kern_log() {
	TZ=UTC dmesg --time-format iso | awk -v from="$1" -v to="$2" -v cg="/$3" '
		{ t = substr($0, 1, 19) }
		t < from || t > to { next }
		/ invoked oom-killer: / { inblock = 1; n = 0; mine = 0 }
		inblock {
			buf[++n] = $0
			if (index($0, "oom_memcg=" cg ",") || index($0, "task_memcg=" cg ",") || index($0, "Memory cgroup stats for " cg ":")) mine = 1
			if ($0 ~ /(Memory cgroup out of memory|Out of memory): Killed process /) {
				if (mine) {
					for (k = 1; k <= n; k++) print buf[k]
					if (match($0, /Killed process [0-9]+/)) killed[substr($0, RSTART + 15, RLENGTH - 15)] = 1
				}
				inblock = 0
			}
			next
		}
		/ oom_reaper: reaped process / {
			if (match($0, /reaped process [0-9]+/) && (substr($0, RSTART + 15, RLENGTH - 15) in killed)) print
		}'
}

# ---------------------------------------------------------------- evidence checks

# Lines in which nginx itself reports a failed upstream (not "FastCGI sent in stderr").
PROXY_ERRORS='upstream (timed out|prematurely closed|sent)|connect\(\) |(recv|readv|writev)\(\) failed|no live upstreams'

# expect FILE REGEX WHAT: record a failure when no line of FILE matches REGEX.
expect() {
	if ! grep -Eq -- "$2" "$D/logs/$1" 2>/dev/null; then
		FAILURES+=("$SCN: no $3 in $1 (/$2/)")
		log "MISSING: $3 in $1"
	fi
}

# expect_none FILE REGEX WHAT: record a failure when a line of FILE matches REGEX.
expect_none() {
	if grep -Eq -- "$2" "$D/logs/$1" 2>/dev/null; then
		FAILURES+=("$SCN: unexpected $3 in $1: $(grep -Em1 -- "$2" "$D/logs/$1")")
		log "UNEXPECTED: $3 in $1"
	fi
}

# ---------------------------------------------------------------- scenarios

# Each scenario: 40 healthy requests, the incident under ~66 requests of background
# traffic (3 visitors, 10 requests/s each), the end of the incident, 40 healthy requests.

sc_healthy() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	traffic 3 22 10
	sleep 1
	log "graceful reload of php-fpm (SIGUSR2) and nginx (SIGHUP) under load"
	kill -USR2 "$FPM_PID"
	sleep 1
	kill -HUP "$NGINX_PID"
	traffic_wait
	healthy 40
	expect php-fpm.log 'Reloading in progress' "php-fpm reload"
	expect_none access.log '" 50[234] ' "gateway status"
	expect_none error.log "$PROXY_ERRORS" "proxy error"
}

sc_nginx_pool_exhausted() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 3 2 1 2)
listen.backlog = 4
request_slowlog_timeout = 1s
slowlog = $D/php-fpm-slow.log"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined "fastcgi_read_timeout 2s;"
	start_nginx
	healthy 40
	log "sales report turns slow (3 s) and 24 visitors open it at once; max_children = 3, backlog 4"
	set_flag report_delay 3
	new_config
	for ((k = 0; k < 24; k++)); do add_request "$CONF" GET "/report.php?range=90d"; done
	background parallel 24
	sleep 0.2
	traffic 3 22 10
	traffic_wait
	clear_flags
	wait_idle 15
	healthy 40
	expect php-fpm.log 'server reached pm.max_children' "pool warning"
	expect php-fpm.log 'executing too slow' "slow script warning"
	expect error.log 'upstream timed out \(110|\(11: Resource temporarily unavailable\)' "timeout or EAGAIN"
	expect access.log '" 50[24] ' "gateway status"
	expect access.log '"(GET|POST) /(|product|category|search|api/|account/)[^ ]* HTTP/1\.1" 50[24] ' "fast page failing behind the full pool"
}

# fpm_down: stop php-fpm under load, start it again 2 s later.
fpm_down() {
	healthy 40
	traffic 3 22 10
	sleep 0.8
	log "stopping php-fpm (SIGTERM, like systemctl stop)"
	stop_fpm TERM
	sleep 2
	log "starting php-fpm again"
	start_fpm
	traffic_wait
	healthy 40
}

sc_nginx_fpm_down_socket() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	fpm_down
	expect error.log 'connect\(\) to unix:.*failed \((2: No such file or directory|111: Connection refused)\)' "connect() failure"
	expect php-fpm.log 'exiting, bye-bye' "php-fpm stop"
	expect access.log '" 502 ' "502"
}

sc_nginx_fpm_down_tcp() {
	fpm_conf "127.0.0.1:$FPM_PORT" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	nginx_conf "127.0.0.1:$FPM_PORT" combined
	start_nginx
	fpm_down
	expect error.log 'connect\(\) failed \(111: Connection refused\)' "connection refused"
	expect access.log '" 502 ' "502"
}

sc_nginx_oom_kill() {
	local from to cgname=origin-examples-oom-$$
	from=$(date -u -d '-1 sec' +%FT%T)
	cgroup_make "$cgname" $((160 << 20))
	fpm_conf "$D/php.sock" "$(pool_dynamic 6 2 1 3)
php_admin_value[memory_limit] = -1"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	log "3 imports that need ~640 MB each, php-fpm in a 160 MB memory cgroup"
	traffic 3 22 10
	new_config
	for ((k = 0; k < 3; k++)); do add_request "$CONF" POST /admin/import.php "file=orders-2026-11.csv&mode=full"; done
	sleep 0.3
	background serial 1
	traffic_wait
	wait_idle 10
	healthy 40
	stop_all
	sleep 0.5
	to=$(date -u -d '+1 sec' +%FT%T)
	kern_log "$from" "$to" "$cgname" >"$D/logs/kern.log"
	expect kern.log '(Memory cgroup out of memory|Out of memory): Killed process [0-9]+ \(php-fpm' "OOM kill"
	expect php-fpm.log 'exited on signal 9 \(SIGKILL\)' "SIGKILL exit"
	expect access.log '" 502 ' "502"
}

sc_nginx_request_terminated() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 8 3 2 4)
request_terminate_timeout = 2s"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	log "CSV export hangs (5 s); request_terminate_timeout = 2s"
	set_flag export_delay 5
	traffic 3 22 10
	new_config
	for ((k = 0; k < 5; k++)); do add_request "$CONF" GET "/admin/export.php?format=csv&from=2026-01-01"; done
	sleep 0.3
	background parallel 5
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect php-fpm.log 'execution timed out \([0-9.]+ sec\), terminating' "execution timed out"
	expect php-fpm.log 'exited on signal 15 \(SIGTERM\)' "SIGTERM exit"
	expect access.log '" 502 ' "502"
}

sc_nginx_worker_segfault() {
	local pid n=0 i
	fpm_conf "$D/php.sock" "$(pool_dynamic 8 3 2 4)"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	set_flag report_delay 4
	traffic 3 22 10
	new_config
	for ((k = 0; k < 3; k++)); do add_request "$CONF" GET "/report.php?range=365d"; done
	background parallel 3
	for ((i = 0; i < 30 && n < 3; i++)); do
		sleep 0.1
		n=$(busy_pids 'range=365d' | wc -l)
	done
	sleep 0.5
	for pid in $(busy_pids 'range=365d'); do
		log "kill -SEGV php-fpm worker $pid (serving the yearly report)"
		kill -SEGV "$pid" 2>/dev/null || true
	done
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect php-fpm.log 'exited on signal 11 \(SIGSEGV' "SIGSEGV exit"
	expect access.log '" 502 ' "502"
}

sc_nginx_header_too_big() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	log "a release sets a 16 KB session cookie on sign-in (fastcgi_buffer_size default)"
	set_flag big_cookie
	traffic 3 22 10
	new_config
	for ((k = 0; k < 20; k++)); do add_request "$CONF" POST /account/login.php "email=user$RANDOM%40example.com&password=x"; done
	background serial 8
	traffic_wait
	clear_flags
	healthy 40
	expect error.log 'upstream sent too big header while reading response header from upstream' "too big header"
	expect access.log '" 502 ' "502"
}

sc_nginx_upstream_timeout() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 20 5 3 8)
request_slowlog_timeout = 1s
slowlog = $D/php-fpm-slow.log"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined "fastcgi_read_timeout 2s;"
	start_nginx
	healthy 40
	log "yearly report takes 4 s, fastcgi_read_timeout 2s, pool of 20"
	set_flag report_delay 4
	traffic 3 22 10
	new_config
	for ((k = 0; k < 6; k++)); do add_request "$CONF" GET "/report.php?range=365d"; done
	background parallel 3
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect error.log 'upstream timed out \(110: Connection timed out\) while reading response header' "upstream timed out"
	expect_none php-fpm.log 'server reached pm.max_children' "pool warning"
	expect php-fpm.log 'executing too slow' "slow script warning"
	expect access.log '" 504 ' "504"
}

sc_nginx_app_502() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	log "payment provider down: checkout answers 502, stock API 503"
	set_flag checkout_down
	set_flag stock_down
	traffic 3 22 10
	new_config
	for ((k = 0; k < 20; k++)); do
		add_request "$CONF" POST /api/checkout.php "cart=$RANDOM&method=card"
		if ((k % 2)); then add_request "$CONF" GET "/api/stock.php?sku=$((1000 + RANDOM % 400))"; fi
	done
	background serial 10
	traffic_wait
	clear_flags
	healthy 40
	expect access.log '" 502 ' "502"
	expect access.log '" 503 ' "503"
	expect_none error.log "$PROXY_ERRORS" "proxy error"
}

sc_nginx_app_503_upstream_status() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	nginx_conf "unix:$D/php.sock" main_ext
	start_nginx
	healthy 40
	log "maintenance mode on for ~3 s: every PHP page answers 503"
	traffic 3 22 10
	sleep 0.3
	set_flag maintenance
	sleep 2.5
	clear_flags
	traffic_wait
	healthy 40
	cp "$D/nginx/nginx.conf" "$D/logs/nginx.conf"
	expect access.log '" 503 .*us="503"' "503 with upstream_status 503"
	expect_none error.log "$PROXY_ERRORS" "proxy error"
}

sc_apache_fpm_down() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 5 2 1 3)"
	start_fpm
	apache_conf "proxy:unix:$D/php.sock|fcgi://localhost"
	start_apache
	fpm_down
	expect error.log 'AH0(2454|1079|0957)' "AH02454/AH01079/AH00957"
	expect access.log '" 503 ' "503"
}

sc_apache_timeout() {
	fpm_conf "127.0.0.1:$FPM_PORT" "$(pool_dynamic 10 3 2 5)"
	start_fpm
	apache_conf "proxy:fcgi://127.0.0.1:$FPM_PORT" "ProxyTimeout 2"
	start_apache
	healthy 40
	log "yearly report takes 5 s, ProxyTimeout 2"
	set_flag report_delay 5
	traffic 3 22 10
	new_config
	for ((k = 0; k < 6; k++)); do add_request "$CONF" GET "/report.php?range=365d"; done
	background parallel 3
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect error.log 'AH01075' "AH01075"
	expect access.log '" 504 ' "504"
}

# children PID: the PIDs of PID's child processes (nginx workers, apache children).
children() {
	pgrep -P "$1" || true
}

# slow_inflight N PATTERN: start N parallel requests for the (slow) report and
# wait (bounded) until php-fpm workers serve them.
slow_inflight() {
	local n=0 i
	new_config
	for ((k = 0; k < $1; k++)); do add_request "$CONF" GET "/report.php?range=$2"; done
	background parallel "$1"
	for ((i = 0; i < 50 && n < $1; i++)); do
		sleep 0.1
		n=$(busy_pids "range=$2" | wc -l)
	done
}

sc_nginx_worker_crash() {
	local pid
	fpm_conf "$D/php.sock" "$(pool_dynamic 8 3 2 4)"
	start_fpm
	nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	set_flag report_delay 3
	traffic 3 22 10
	slow_inflight 3 365d
	sleep 0.3
	for pid in $(children "$NGINX_PID"); do
		log "kill -SEGV nginx worker $pid (3 yearly reports in flight)"
		kill -SEGV "$pid" 2>/dev/null || true
	done
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect error.log 'worker process [0-9]+ exited on signal 11' "worker exit on signal 11"
	expect_none access.log '" 50[234] ' "gateway status"
}

sc_nginx_worker_connections() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 40 5 3 10)"
	start_fpm
	NGX_CONNS=16 nginx_conf "unix:$D/php.sock" combined
	start_nginx
	healthy 40
	log "worker_connections 16; 30 visitors open the (1 s) report at once"
	set_flag report_delay 1
	traffic 3 22 10
	new_config
	for ((k = 0; k < 30; k++)); do add_request "$CONF" GET "/report.php?range=30d"; done
	background parallel 30
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect error.log 'worker_connections are not enough' "worker_connections warning"
}

sc_nginx_http_backend_killed() {
	start_app "$FPM_PORT"
	nginx_conf "http://127.0.0.1:$FPM_PORT" combined
	start_nginx
	healthy 40
	set_flag report_delay 3
	traffic 3 22 10
	new_config
	for ((k = 0; k < 3; k++)); do add_request "$CONF" GET "/report.php?range=365d"; done
	background parallel 3
	sleep 1
	log "kill -KILL the app server $APP_PID (3 yearly reports in flight), restart it 2 s later"
	kill -KILL "$APP_PID"
	wait "$APP_PID" 2>/dev/null || true
	APP_PID=
	sleep 2
	start_app "$FPM_PORT"
	traffic_wait
	clear_flags
	healthy 40
	expect error.log 'upstream prematurely closed connection while reading response header from upstream' "premature close"
	expect error.log 'connect\(\) failed \(111: Connection refused\)' "connection refused"
	expect access.log '" 502 ' "502"
}

sc_apache_child_segfault() {
	local pid master
	fpm_conf "$D/php.sock" "$(pool_dynamic 8 3 2 4)"
	start_fpm
	apache_conf "proxy:unix:$D/php.sock|fcgi://localhost"
	start_apache
	healthy 40
	set_flag report_delay 3
	traffic 3 22 10
	slow_inflight 3 365d
	sleep 0.3
	master=$(<"$APACHE_PIDFILE")
	for pid in $(children "$master"); do
		log "kill -SEGV apache child $pid (3 yearly reports in flight)"
		kill -SEGV "$pid" 2>/dev/null || true
	done
	traffic_wait
	clear_flags
	wait_idle 10
	healthy 40
	expect error.log 'AH00052: child pid [0-9]+ exit signal Segmentation fault \(11\)' "AH00052"
}

# Cloudflare waits 100 s for the origin's answer, then shows visitors 524 and
# closes the connection; nginx, whose fastcgi_read_timeout is longer, logs 499.
# curl's --max-time 100 plays Cloudflare's part. This scenario takes ~2.5 min.
sc_nginx_cloudflare_timeout() {
	fpm_conf "$D/php.sock" "$(pool_dynamic 8 3 2 4)
request_slowlog_timeout = 5s
slowlog = $D/php-fpm-slow.log"
	start_fpm
	NGX_ERRLEVEL=info nginx_conf "unix:$D/php.sock" main_cf "fastcgi_read_timeout 300s;"
	start_nginx
	healthy 40
	log "yearly report takes 103 s, fastcgi_read_timeout 300s; the edge gives up at 100 s"
	set_flag report_delay 103
	new_config
	for ((k = 0; k < 4; k++)); do MAX_TIME=100 add_request "$CONF" GET "/report.php?range=365d"; done
	background parallel 4
	traffic 1 400 4
	traffic_wait
	clear_flags
	wait_idle 15
	healthy 40
	cp "$D/nginx/nginx.conf" "$D/logs/nginx.conf"
	expect access.log '" 499 .*rt=(99|100|101)\.' "499 after ~100 s"
	expect php-fpm.log 'executing too slow' "slow script warning"
	expect error.log 'client prematurely closed connection' "client closed (info)"
}

# Two sites on one nginx, each with its own access log and php-fpm pool; only
# the shop's pool (max_children 3) is exhausted, the blog's stays healthy.
sc_nginx_two_pools() {
	mkdir -p "$D/fpm"
	cat >"$D/fpm/php-fpm.conf" <<EOF
; php-fpm for scenario $SCN, written by examples/generate.sh
[global]
pid = $D/fpm/php-fpm.pid
error_log = $D/logs/php-fpm.log
log_level = notice
daemonize = no

[shop]
user = www-data
group = www-data
listen = $D/shop.sock
listen.owner = www-data
listen.group = www-data
listen.backlog = 4
$(pool_dynamic 3 2 1 2)
request_slowlog_timeout = 1s
slowlog = $D/php-fpm-shop-slow.log

[blog]
user = www-data
group = www-data
listen = $D/blog.sock
listen.owner = www-data
listen.group = www-data
$(pool_dynamic 5 2 1 3)
EOF
	FPM_LISTEN=$D/blog.sock
	start_fpm
	nginx_conf "unix:$D/shop.sock" combined "fastcgi_read_timeout 2s;"
	# A second server block: the blog, its own access log and pool.
	awk -v d="$D" '
		/^    server \{/ && !done { inserver = 1 }
		{ print }
		inserver { block = block $0 "\n" }
		inserver && /^    \}/ { inserver = 0; done = 1
			gsub(/shop\.example\.com/, "blog.example.com", block)
			gsub(d "/shop\\.sock", d "/blog.sock", block)
			gsub(/fastcgi_read_timeout 2s;/, "", block)
			sub(/server \{\n/, "server {\n        access_log " d "/logs/blog.access.log combined;\n", block)
			printf "%s", block }
	' "$D/nginx/nginx.conf" >"$D/nginx/nginx.conf.new"
	sed -i "s|access_log $D/logs/access.log combined;|access_log $D/logs/shop.access.log combined;|" "$D/nginx/nginx.conf.new"
	mv "$D/nginx/nginx.conf.new" "$D/nginx/nginx.conf"
	start_nginx
	healthy 20
	REQ_HOST=blog.example.com healthy 20
	log "the shop's report turns slow (3 s), 24 visitors open it; the blog's pool is not touched"
	set_flag report_delay 3
	new_config
	for ((k = 0; k < 24; k++)); do add_request "$CONF" GET "/report.php?range=90d"; done
	background parallel 24
	sleep 0.2
	traffic 2 22 10
	REQ_HOST=blog.example.com traffic 2 22 10
	traffic_wait
	clear_flags
	wait_idle 15
	healthy 20
	REQ_HOST=blog.example.com healthy 20
	cp "$D/nginx/nginx.conf" "$D/logs/nginx.conf"
	expect php-fpm.log '\[pool shop\] server reached pm.max_children' "shop pool warning"
	expect_none php-fpm.log '\[pool blog\] server reached pm.max_children' "blog pool warning"
	expect shop.access.log '" 50[24] ' "shop gateway status"
	expect_none blog.access.log '" 50[234] ' "blog gateway status"
}

# ---------------------------------------------------------------- main

# status_counts FILE...: "200=120 404=9 502=31" from nginx or apache access logs.
status_counts() {
	awk '{ if (match($0, /" [0-9][0-9][0-9] /)) c[substr($0, RSTART + 2, 3)]++ }
		END { for (s in c) printf "%s=%d\n", s, c[s] }' "$@" | sort | paste -sd' ' -
}

run_scenario() {
	local idx=$1
	SCN=$2
	D=$WORK/$SCN
	rm -rf "$D"
	mkdir -p "$D/logs"
	HTTP_PORT=$(free_port $((18100 + 10 * idx)))
	FPM_PORT=$(free_port $((19100 + 10 * idx)))
	BASE=http://127.0.0.1:$HTTP_PORT
	clear_flags
	rm -f "$BUSY"/busy-*
	local t0=$SECONDS
	log "start (http $HTTP_PORT)"
	"sc_${SCN//-/_}"
	stop_all
	rm -rf "${OUT:?}/$SCN"
	mkdir -p "$OUT/$SCN"
	cp "$D/logs"/* "$OUT/$SCN/"
	chmod 644 "$OUT/$SCN"/*
	log "done in $((SECONDS - t0)) s: $(status_counts "$OUT/$SCN/"*access.log)"
	SCN=
}

write_app
for s in "${RUN_LIST[@]}"; do
	for i in "${!SCENARIOS[@]}"; do
		[[ ${SCENARIOS[i]} == "$s" ]] && run_scenario "$i" "$s"
	done
done

echo
echo "Summary (status counts per access log, $OUT):"
for s in "${RUN_LIST[@]}"; do
	printf '  %-32s %s\n' "$s" "$(status_counts "$OUT/$s/"*access.log)"
done
if ((${#FAILURES[@]})); then
	echo
	echo "Missing evidence:" >&2
	printf '  %s\n' "${FAILURES[@]}" >&2
	exit 1
fi
