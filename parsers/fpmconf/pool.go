package fpmconf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// set applies one key (lower-cased) of a pool section.
func (p *Pool) set(key, value string) error {
	value = strings.ReplaceAll(value, "$pool", p.Name)
	p.Values[key] = value
	var err error
	switch key {
	case "listen":
		p.Listen = value
	case "listen.owner":
		p.ListenOwner = value
	case "listen.group":
		p.ListenGroup = value
	case "listen.mode":
		p.ListenMode = value
	case "user":
		p.User = value
	case "group":
		p.Group = value
	case "pm":
		switch v := strings.ToLower(value); v {
		case "static", "dynamic", "ondemand":
			p.PM = v
		default:
			err = fmt.Errorf("%q is not static, dynamic or ondemand", value)
		}
	case "pm.max_children":
		p.MaxChildren, err = count(value)
	case "pm.start_servers":
		p.StartServers, err = count(value)
	case "pm.min_spare_servers":
		p.MinSpare, err = count(value)
	case "pm.max_spare_servers":
		p.MaxSpare, err = count(value)
	case "pm.max_requests":
		p.MaxRequests, err = count(value)
	case "request_terminate_timeout":
		p.RequestTerminateTimeout, err = ParseDuration(value)
	case "request_slowlog_timeout":
		p.RequestSlowlogTimeout, err = ParseDuration(value)
	case "slowlog":
		p.Slowlog = value
	case "pm.status_path":
		p.StatusPath = value
	case "ping.path":
		p.PingPath = value
	case "php_admin_value[memory_limit]":
		p.MemoryLimit, err = ParseSize(value)
	case "php_value[memory_limit]":
		// php_admin_value cannot be overridden, whatever the order.
		if _, ok := p.Values["php_admin_value[memory_limit]"]; !ok {
			p.MemoryLimit, err = ParseSize(value)
		}
	case "php_admin_value[error_log]":
		p.ErrorLog = value
	case "php_value[error_log]":
		if _, ok := p.Values["php_admin_value[error_log]"]; !ok {
			p.ErrorLog = value
		}
	}
	return err
}

// count parses a non-negative integer setting.
func count(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return n, nil
}

// ErrBadValue is wrapped by ParseDuration and ParseSize errors.
var ErrBadValue = errors.New("bad value")

// ParseDuration parses php-fpm's time values (fpm_conf_set_time): an
// integer with an optional suffix s, m, h or d; a bare number is seconds.
// "0" means off and returns 0.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration: %w", ErrBadValue)
	}
	unit := time.Second
	num := s
	switch s[len(s)-1] {
	case 's', 'S':
		num = s[:len(s)-1]
	case 'm', 'M':
		unit, num = time.Minute, s[:len(s)-1]
	case 'h', 'H':
		unit, num = time.Hour, s[:len(s)-1]
	case 'd', 'D':
		unit, num = 24*time.Hour, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > int64(1<<62)/int64(unit) || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q is not a duration like 30, 30s, 5m, 1h or 1d: %w", s, ErrBadValue)
	}
	return time.Duration(n) * unit, nil
}

// ParseSize parses a PHP size (memory_limit) into bytes: an integer with an
// optional suffix K, M or G (powers of 1024); -1 means unlimited.
func ParseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	if s == "" {
		return 0, fmt.Errorf("empty size: %w", ErrBadValue)
	}
	mult := int64(1)
	num := s
	switch s[len(s)-1] {
	case 'k', 'K':
		mult, num = 1<<10, s[:len(s)-1]
	case 'm', 'M':
		mult, num = 1<<20, s[:len(s)-1]
	case 'g', 'G':
		mult, num = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q is not a size like 128M, 1G or -1: %w", s, ErrBadValue)
	}
	return n * mult, nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
