package discover

import (
	"path"
	"time"

	"github.com/origin-agent/origin-agent/parsers/fpmconf"
)

// PHPFPM is what php-fpm's configuration says.
type PHPFPM struct {
	Masters []FPMMaster     `json:"masters"`
	Pools   []FPMPool       `json:"pools"`
	Config  *fpmconf.Config `json:"-"`
}

// FPMMaster is one php-fpm master (one per PHP version installed).
type FPMMaster struct {
	Conf     string `json:"conf"`
	ErrorLog string `json:"error_log"` // absolute path, or "syslog"
	LogLevel string `json:"log_level"`
}

// FPMPool is one pool, with what matters for diagnosis.
type FPMPool struct {
	Name                    string        `json:"name"`
	Where                   string        `json:"where"`
	Listen                  string        `json:"listen"`
	ListenOwner             string        `json:"listen_owner,omitempty"`
	ListenGroup             string        `json:"listen_group,omitempty"`
	ListenMode              string        `json:"listen_mode,omitempty"`
	PM                      string        `json:"pm"`
	MaxChildren             int           `json:"max_children"`
	MaxRequests             int           `json:"max_requests,omitempty"`
	RequestTerminateTimeout time.Duration `json:"request_terminate_timeout_ns,omitempty"`
	RequestSlowlogTimeout   time.Duration `json:"request_slowlog_timeout_ns,omitempty"` // 0: off
	Slowlog                 string        `json:"slowlog,omitempty"`
	StatusPath              string        `json:"status_path,omitempty"`
	MemoryLimit             int64         `json:"memory_limit,omitempty"`
	ErrorLog                string        `json:"error_log,omitempty"` // php_admin_value[error_log]
}

// fpmPatterns are the packaged master files: Debian (one per PHP version)
// and RHEL.
var fpmPatterns = []string{"/etc/php/*/fpm/php-fpm.conf", "/etc/php-fpm.conf"}

// fpmLocalStateDir is where php-fpm resolves a relative error_log on
// packaged builds (PHP_LOCALSTATEDIR, --localstatedir=/var on Debian and
// RHEL; fpm_conf.c evaluates error_log against it, not against the prefix).
const fpmLocalStateDir = "/var"

func (h *Host) phpfpm() {
	o := h.opts
	if o.PHPFPMConf == "off" {
		return
	}
	patterns := fpmPatterns
	if o.PHPFPMConf != "" {
		patterns = []string{o.PHPFPMConf}
	}
	cfg, err := fpmconf.Load(o.System.FS, patterns...)
	if err != nil {
		h.problem("php-fpm: %v", err)
	}
	if cfg == nil || (len(cfg.Files) == 0 && err == nil) {
		return // not installed
	}
	p := &PHPFPM{Config: cfg}
	for _, g := range cfg.Globals {
		m := FPMMaster{Conf: "/" + g.File, ErrorLog: g.ErrorLog, LogLevel: g.LogLevel}
		if m.ErrorLog == "" {
			m.ErrorLog = "log/php-fpm.log" // php-fpm's compiled-in default, under its localstatedir
		}
		if m.ErrorLog != "syslog" && !path.IsAbs(m.ErrorLog) {
			m.ErrorLog = path.Join(fpmLocalStateDir, m.ErrorLog)
		}
		p.Masters = append(p.Masters, m)
	}
	for _, pl := range cfg.Pools {
		p.Pools = append(p.Pools, FPMPool{Name: pl.Name, Where: where("/"+pl.File, pl.Line), Listen: pl.Listen,
			ListenOwner: pl.ListenOwner, ListenGroup: pl.ListenGroup, ListenMode: pl.ListenMode, PM: pl.PM,
			MaxChildren: pl.MaxChildren, MaxRequests: pl.MaxRequests, RequestTerminateTimeout: pl.RequestTerminateTimeout,
			RequestSlowlogTimeout: pl.RequestSlowlogTimeout, Slowlog: pl.Slowlog, StatusPath: pl.StatusPath, MemoryLimit: pl.MemoryLimit, ErrorLog: pl.ErrorLog})
	}
	h.PHPFPM = p
}
