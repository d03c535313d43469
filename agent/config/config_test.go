package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPackagedConfig loads the shipped packaging/config.toml: it must be
// valid and equal to the defaults, so the documentation never rots.
func TestPackagedConfig(t *testing.T) {
	c, err := Load("../../packaging/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.file, c.lines = "", nil
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("packaging/config.toml differs from Default():\n%s\nwant\n%s", c.Effective(), Default().Effective())
	}
	// Every key of every table must appear in the file, so each is documented.
	data, err := os.ReadFile("../../packaging/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := keyLines(data)
	for _, section := range []string{"agent", "sources", "correlate", "checks", "firewall", "metrics", "privacy"} {
		rv := reflect.ValueOf(Default()).Elem().FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, section) })
		for i := 0; i < rv.NumField(); i++ {
			key := section + "." + rv.Type().Field(i).Tag.Get("toml")
			if _, ok := lines[key]; !ok {
				t.Errorf("packaging/config.toml does not set %s", key)
			}
		}
	}
}

// allKeys sets every key DESIGN.md names, plus the added ones, and every
// sink type with its keys.
const allKeys = `
[agent]
state_dir = "/srv/oa"
hostname = "web-1"
log_level = "debug"

[sources]
nginx_conf    = "/opt/nginx/conf/nginx.conf"
nginx_access  = ["/var/log/nginx/access.log", "/var/log/nginx/*.access.log"]
nginx_error   = ["/var/log/nginx/error.log"]
apache_conf   = "off"
apache_access = ["/var/log/apache2/access.log"]
apache_error  = ["/var/log/apache2/error.log"]
php_fpm       = ["/var/log/php8.2-fpm.log"]
php_fpm_conf  = "/etc/php/8.2/fpm/php-fpm.conf"
kernel        = "journal"

[correlate]
gap = "90s"

[checks]
interval = "5s"
ports = [80, 443, 8443]
upstreams = ["unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000", "[::1]:8080"]

[firewall]
audit_interval = "10m"
manage = true

[metrics]
listen = ""

[privacy]
redact = false
redact_params = ["token"]

[[sinks]]
type = "stdout"

[[sinks]]
type = "file"
path = "/var/log/origin-agent/findings.jsonl"
max_size = 1048576
max_files = 3
timeout = "2s"
batch_size = 10
batch_wait = "500ms"
retry_max = "1m"
spool_max_bytes = "1G"

[[sinks]]
type = "syslog"
address = "tls://logs.example.com:6514"
ca_file = "/etc/ssl/ca.pem"
cert_file = "/etc/oa/c.pem"
key_file = "/etc/oa/c.key"
server_name = "logs.example.com"
facility = "local3"
app_name = "oa"

[[sinks]]
type = "loki"
url = "https://loki.example.com/loki/api/v1/push"
tenant = "web"
labels = { env = "prod" }
headers = { Authorization = "Bearer x" }
gzip = true

[[sinks]]
type = "elasticsearch"
url = "http://127.0.0.1:9200"
index = "findings"
username = "u"
password = "p"
headers = {}

[[sinks]]
type = "elasticsearch"
url = "https://es:9200"
api_key = "k"

[[sinks]]
type = "http"
url = "https://hooks.example.com/x"
headers = { "X-Token" = "t" }
batch_size = 50
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAllKeys(t *testing.T) {
	c, err := Load(writeConfig(t, allKeys))
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.Hostname != "web-1" || c.Sources.Kernel != "journal" || c.Correlate.Gap.D() != 90*time.Second ||
		!reflect.DeepEqual(c.Checks.Ports, []int{80, 443, 8443}) || !c.Firewall.Manage || c.Metrics.Listen != "" ||
		c.Privacy.Redact || len(c.Sources.NginxAccess) != 2 || c.Sources.ApacheConf != "off" {
		t.Errorf("decoded %+v", c)
	}
	if len(c.Sinks) != 7 {
		t.Fatalf("sinks = %d", len(c.Sinks))
	}
	f := c.Sinks[1]
	if f.MaxSize != 1<<20 || f.SpoolMaxBytes != 1<<30 || f.BatchWait.D() != 500*time.Millisecond || f.RetryMax.D() != time.Minute {
		t.Errorf("file sink %+v", f)
	}
	if s := c.Sinks[2]; s.Facility != "local3" || s.CertFile != "/etc/oa/c.pem" {
		t.Errorf("syslog sink %+v", s)
	}
	if l := c.Sinks[3]; l.Labels["env"] != "prod" || !l.Gzip || l.BatchSize != 100 {
		t.Errorf("loki sink %+v (batch_size should default to 100)", l)
	}
	if h := c.Sinks[6]; h.Headers["X-Token"] != "t" || h.BatchSize != 50 {
		t.Errorf("http sink %+v", h)
	}
}

// TestEffectiveRoundTrip: what check-config prints decodes to the same
// configuration.
func TestEffectiveRoundTrip(t *testing.T) {
	for _, text := range []string{"", allKeys} {
		c, err := Decode("a.toml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		out := c.Effective()
		back, err := Decode("b.toml", []byte(out))
		if err != nil {
			t.Fatalf("effective config does not decode: %v\n%s", err, out)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("effective config does not validate: %v\n%s", err, out)
		}
		c.file, c.lines, back.file, back.lines = "", nil, "", nil
		if !reflect.DeepEqual(c, back) {
			t.Errorf("round trip differs:\n%s", out)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // each must appear, in this order, one per error line
		is         error
	}{
		{"unknown key", "[agent]\nstate_dir = \"/x\"\n\nstatedir = \"/y\"\n",
			[]string{"config.toml:4: agent.statedir: unknown key: not one of state_dir, hostname, log_level"}, ErrUnknownKey},
		{"unknown table", "[source]\nkernel = \"off\"\n", []string{"config.toml:1: source: unknown key"}, ErrUnknownKey},
		{"wrong type", "[sources]\n# logs\nnginx_access = \"/var/log/nginx/access.log\"\n",
			[]string{`config.toml:3: sources.nginx_access: wrong type: want an array, got string "/var/log/nginx/access.log"`}, ErrType},
		{"wrong element type", "[checks]\nports = [80, \"443\"]\n", []string{`config.toml:2: checks.ports: element 2: wrong type: want an integer, got string "443"`}, ErrType},
		{"duration as number", "[correlate]\ngap = 60\n", []string{`config.toml:2: correlate.gap: wrong type: want a duration string`}, ErrType},
		{"bad duration", "[checks]\ninterval = \"10 s\"\n", []string{`config.toml:2: checks.interval: bad value: "10 s" is not a duration`}, ErrValue},
		{"negative duration", "[correlate]\ngap = \"-5s\"\n", []string{`config.toml:2: correlate.gap: bad value: -5s must be positive`}, ErrValue},
		{"syslog scheme", "[[sinks]]\ntype = \"syslog\"\naddress = \"https://logs:6514\"\n",
			[]string{`config.toml:3: sinks[0].address: bad value: scheme "https" is not udp, tcp or tls`}, ErrValue},
		{"syslog no port", "[[sinks]]\ntype = \"syslog\"\naddress = \"udp://logs\"\n", []string{`config.toml:3: sinks[0].address: bad value:`}, ErrValue},
		{"tls keys on udp", "[[sinks]]\ntype = \"syslog\"\naddress = \"udp://logs:514\"\nca_file = \"/ca.pem\"\n",
			[]string{`config.toml:4: sinks[0].ca_file: bad value: applies only to tls:// addresses`}, ErrValue},
		{"relative state dir", "[agent]\nstate_dir = \"var/lib/oa\"\n", []string{`config.toml:2: agent.state_dir: bad value: "var/lib/oa" is not an absolute path`}, ErrValue},
		{"relative log path", "[sources]\nnginx_error = [\"/ok.log\", \"logs/error.log\"]\n",
			[]string{`config.toml:2: sources.nginx_error: bad value: element 2: "logs/error.log" is not an absolute path`}, ErrValue},
		{"relative file sink", "[[sinks]]\ntype = \"file\"\npath = \"findings.jsonl\"\n", []string{`config.toml:3: sinks[0].path: bad value: "findings.jsonl" is not an absolute path`}, ErrValue},
		{"key of another sink type", "[[sinks]]\ntype = \"stdout\"\n[[sinks]]\ntype = \"file\"\npath = \"/f\"\nurl = \"http://x\"\n",
			[]string{`config.toml:6: sinks[1].url: unknown key: not a key of a file sink`}, ErrUnknownKey},
		{"bad sink type", "[[sinks]]\ntype = \"kafka\"\n", []string{`config.toml:2: sinks[0].type: bad value: "kafka" is not stdout, file`}, ErrValue},
		{"missing sink type", "[[sinks]]\npath = \"/x\"\n", []string{`config.toml:1: sinks[0]: bad value: missing type`}, ErrValue},
		{"loki url scheme", "[[sinks]]\ntype = \"loki\"\nurl = \"ftp://loki\"\n", []string{`config.toml:3: sinks[0].url: bad value: scheme "ftp" is not http or https`}, ErrValue},
		{"kernel", "[sources]\nkernel = \"dmesg\"\n", []string{`config.toml:2: sources.kernel: bad value: "dmesg" is not`}, ErrValue},
		{"port range", "[checks]\nports = [0, 80, 80]\n", []string{`config.toml:2: checks.ports: bad value: element 1: port 0`, `config.toml:2: checks.ports: bad value: element 3: port 80 is listed twice`}, ErrValue},
		{"upstream", "[checks]\nupstreams = [\"unix:run/x.sock\", \"localhost\"]\n", []string{`element 1: "unix:run/x.sock": the socket path must be absolute`, `element 2: "localhost" is neither`}, ErrValue},
		{"metrics listen", "[metrics]\nlisten = \"9464\"\n", []string{`config.toml:2: metrics.listen: bad value: "9464" is not host:port`}, ErrValue},
		{"syntax", "[agent]\nstate_dir = \"/x\n", []string{"config.toml:2: agent.state_dir: TOML syntax error:"}, ErrSyntax},
		{"no sinks", "sinks = []\n", []string{"config.toml:1: sinks: bad value: no sinks"}, ErrValue},
		{"size", "[[sinks]]\ntype = \"file\"\npath = \"/f\"\nmax_size = \"lots\"\n", []string{`config.toml:4: sinks[0].max_size: bad value: "lots" is not a size`}, ErrValue},
		{"header table in array", "[[sinks]]\ntype = \"stdout\"\n[[sinks]]\ntype = \"http\"\nurl = \"http://h/x\"\n[sinks.headers]\n\"Bad Name\" = \"v\"\n",
			[]string{`config.toml:6: sinks[1].headers: bad value: "Bad Name" is not a header name`}, ErrValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error does not wrap %v", tt.is)
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				// Errors carry the temp file's full path; compare from its base.
				line := got[i][strings.Index(got[i], "config.toml"):]
				if !strings.Contains(line, w) {
					t.Errorf("error %d = %q, want it to contain %q", i+1, line, w)
				}
				if !strings.HasPrefix(got[i], filepath.Dir(got[i][:strings.Index(got[i], "config.toml")])) {
					t.Errorf("error %d does not start with the file path: %q", i+1, got[i])
				}
			}
		})
	}
}

// TestFiveMistakes: five different mistakes are all reported at once, in
// line order.
func TestFiveMistakes(t *testing.T) {
	text := `[agent]
state_dir = "relative/dir"
log_levle = "debug"

[sources]
nginx_access = "/var/log/nginx/access.log"

[correlate]
gap = "a minute"

[[sinks]]
type = "syslog"
address = "http://logs.example.com:514"
`
	_, err := Load(writeConfig(t, text))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		"config.toml:2: agent.state_dir: bad value",
		"config.toml:3: agent.log_levle: unknown key",
		"config.toml:6: sources.nginx_access: wrong type",
		"config.toml:9: correlate.gap: bad value",
		"config.toml:13: sinks[0].address: bad value",
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want 5:\n%v", len(got), err)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("error %d = %q, want %q", i+1, got[i], want[i])
		}
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.toml")); err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Errorf("explicit missing file: err = %v, want an error naming it", err)
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		t.Skip(DefaultPath + " exists on this host")
	}
	c, err := Load("")
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Errorf("no file at the default path: %v, %+v", err, c)
	}
}

func TestDefaultValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Agent.StateDir = "rel"
	if err := c.Validate(); err == nil || err.Error() != `agent.state_dir: bad value: "rel" is not an absolute path` {
		t.Errorf("programmatic config error = %v", err)
	}
}

func TestKeyLines(t *testing.T) {
	text := "a = 1\n[t]\nx = \"\"\"\nk = 1\n\"\"\"\n\"q.k\" = [\n 1,\n 2]\nd.e = 2\n[[arr]]\ny = 1\n[[arr]]\ny = 2 # [\n[arr.sub]\nz = 3\n"
	got := keyLines([]byte(text))
	want := map[string]int{"a": 1, "t": 2, "t.x": 3, "t.q.k": 6, "t.d": 9, "t.d.e": 9, "arr.0": 10, "arr.0.y": 11,
		"arr.1": 12, "arr.1.y": 13, "arr.1.sub": 14, "arr.1.sub.z": 15}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keyLines =\n%v\nwant\n%v", got, want)
	}
}

func TestSizesAndDurations(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ByteSize
	}{{"100M", 100 << 20}, {"100MB", 100 << 20}, {"1GiB", 1 << 30}, {"512k", 512 << 10}, {"1500", 1500}, {"2T", 2 << 40}} {
		got, err := parseByteSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseByteSize(%q) = %d, %v", tt.in, got, err)
		}
		if back, err := parseByteSize(got.String()); err != nil || back != got {
			t.Errorf("%q → %q does not parse back", tt.in, got.String())
		}
	}
	for _, d := range []time.Duration{0, time.Second, 60 * time.Second, 90 * time.Second, 5 * time.Minute, 2 * time.Hour, 90 * time.Minute, 250 * time.Millisecond} {
		back, err := time.ParseDuration(Duration(d).String())
		if err != nil || back != d {
			t.Errorf("Duration(%v).String() = %q", d, Duration(d).String())
		}
	}
}

// TestFindingsFileFollowsStateDir: without [[sinks]] of its own, a config
// that moves state_dir moves the default findings file with it (the unit
// lets the agent write only there); sinks the file declares are its own.
func TestFindingsFileFollowsStateDir(t *testing.T) {
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"defaults", "", "/var/lib/origin-agent/findings.jsonl"},
		{"state_dir moved", "[agent]\nstate_dir = \"/srv/oa\"\n", "/srv/oa/findings.jsonl"},
		{"own file sink", "[agent]\nstate_dir = \"/srv/oa\"\n[[sinks]]\ntype = \"file\"\npath = \"/var/log/oa.jsonl\"\n", "/var/log/oa.jsonl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode("config.toml", []byte(tc.conf))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range c.Sinks {
				if s.Type == "file" {
					got = append(got, s.Path)
				}
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("file sinks %q, want [%s]", got, tc.want)
			}
		})
	}
}
