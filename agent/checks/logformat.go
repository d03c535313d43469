package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// LogFormatID is the id of the access-log format check.
const LogFormatID = "nginx.log_format"

// DiagnosisVars are the nginx variables an access line needs for the
// agent to tell causes apart: how long the request took (a 499 at ≈100 s
// is Cloudflare's 524), which upstream answered and with what (nginx's
// own 502 or the application's), and the CF-Ray that ties the line to
// what the visitor saw in Cloudflare's dashboard.
var DiagnosisVars = []string{"request_time", "upstream_addr", "upstream_status", "upstream_response_time", "http_cf_ray"}

// OriginAgentFormat is the log_format the fix proposes: nginx's combined
// followed by key=value extras, so the agent reads it without being told
// the format (nginx.NewAccess picks rt=, ua=, us=, urt=, host=, cf_ray=
// out of the text after combined) and every tool that reads combined
// still does. Upstream values are quoted: with several upstreams tried
// they hold ", " and " : ".
const OriginAgentFormat = nginxconf.CombinedFormat +
	` rt=$request_time ua="$upstream_addr" us="$upstream_status" urt="$upstream_response_time" host="$host" cf_ray="$http_cf_ray"`

// OriginAgentLogFormat is the complete directive to add to the http block.
const OriginAgentLogFormat = "log_format origin_agent '" + OriginAgentFormat + "';"

// ApacheOriginAgentFormat is the Apache counterpart: Debian's combined,
// then "%T/%D" (read without help as the request time, see
// apache.Combined) and the CF-Ray header.
const ApacheOriginAgentFormat = `%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\" %T/%D \"%{CF-Ray}i\"`

// ApacheOriginAgentLogFormat is the complete LogFormat line.
const ApacheOriginAgentLogFormat = `LogFormat "` + ApacheOriginAgentFormat + `" origin_agent`

// LogFormatCheck asks whether every access log the web servers write
// carries what diagnosis needs (DiagnosisVars; for Apache %D and
// %{CF-Ray}i). It warns with the exact lines to add and where: the
// log_format for the http block, and each access_log / CustomLog to
// change, by file and line. Nothing to judge (no configuration, every
// access log off) skips.
func LogFormatCheck(ngx *nginxconf.Config, apc *apacheconf.Config) Check {
	c := newCheck(LogFormatID)
	if ngx == nil && apc == nil {
		return Skipped(c.ID, "no nginx or apache configuration found")
	}
	var logs []map[string]any
	var fix []string
	judged := 0
	if ngx != nil {
		n, l, f := nginxLogFormats(ngx)
		judged += n
		logs = append(logs, l...)
		fix = append(fix, f...)
	}
	if apc != nil {
		n, l, f := apacheLogFormats(apc)
		judged += n
		logs = append(logs, l...)
		fix = append(fix, f...)
	}
	if judged == 0 {
		c = Skipped(c.ID, "no access log to judge (access_log off everywhere, or its log_format not found)")
		if len(logs) > 0 {
			c.Details["access_logs"] = logs
		}
		return c
	}
	c.Details["access_logs"] = logs
	if len(fix) == 0 {
		c.Status = Pass
		c.Summary = fmt.Sprintf("all %d access log(s) carry the request time, the upstream's address, status and time, and the CF-Ray", judged)
		return c
	}
	var lacking []string
	for _, l := range logs {
		if m, _ := l["missing"].([]string); len(m) > 0 {
			lacking = append(lacking, fmt.Sprintf("%s (%s, format %s) lacks %s", l["path"], l["where"], l["format"], strings.Join(m, " ")))
		}
	}
	c.Status = Warn
	c.Summary = strings.Join(lacking, "; ") + ": without them a 524 (a 499 at ≈100 s) cannot be told from a quick client abort, " +
		"nor the proxy's own 502 from the application's, nor a line matched to the CF-Ray a visitor reports"
	c.Fix = fix
	return c
}

// formatVars returns the variable names a log_format uses ($name and
// ${name}).
func formatVars(f string) []string {
	var out []string
	for i := 0; i < len(f); i++ {
		if f[i] != '$' {
			continue
		}
		j := i + 1
		brace := j < len(f) && f[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(f) && isVarByte(f[k]) {
			k++
		}
		if k > j {
			out = append(out, f[j:k])
		}
		i = k - 1
		if brace && k < len(f) && f[k] == '}' {
			i = k
		}
	}
	return out
}

func isVarByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func nginxLogFormats(ngx *nginxconf.Config) (judged int, logs []map[string]any, fix []string) {
	formats := map[string]nginxconf.LogFormat{"combined": {Name: "combined", Escape: "default", Format: nginxconf.CombinedFormat}}
	for _, f := range ngx.LogFormats() {
		if f.Module == "http" {
			formats[f.Name] = f
		}
	}
	var httpBlock *nginxconf.Directive
	_ = ngx.Walk(func(d *nginxconf.Directive, parents []*nginxconf.Directive) error {
		if httpBlock == nil && len(parents) == 0 && d.Name == "http" && d.HasBlock {
			httpBlock = d
		}
		return nil
	})
	var access []nginxconf.AccessLog
	off := false
	for _, a := range ngx.AccessLogs() {
		if a.Module != "http" {
			continue
		}
		if a.Off {
			off = true
			continue
		}
		access = append(access, a)
	}
	if len(access) == 0 && (off || httpBlock == nil) {
		return 0, nil, nil
	}
	implicit := len(access) == 0
	if implicit {
		// No access_log at all: nginx writes its compiled-in default,
		// logs/access.log (Debian: /var/log/nginx/access.log) in combined.
		access = []nginxconf.AccessLog{{Path: "/var/log/nginx/access.log", Format: "combined",
			Where: nginxconf.Where{File: httpBlock.File, Line: httpBlock.Line, Module: "http", Context: "http"}}}
	}
	needFormat := false
	var changes []string
	jsonFixed := map[string]bool{}
	for _, a := range access {
		where := fmt.Sprintf("%s:%d", a.File, a.Line)
		if implicit {
			where = fmt.Sprintf("%s:%d (no access_log: nginx's default)", a.File, a.Line)
		}
		f, known := formats[a.Format]
		entry := map[string]any{"software": "nginx", "path": a.Path, "format": a.Format, "where": where}
		logs = append(logs, entry)
		if !known {
			entry["note"] = "log_format " + a.Format + " not found in the configuration read: not judged"
			continue
		}
		judged++
		have := formatVars(f.Format)
		var missing []string
		for _, v := range DiagnosisVars {
			if !slices.Contains(have, v) {
				missing = append(missing, "$"+v)
			}
		}
		entry["missing"] = missing
		if len(missing) == 0 {
			continue
		}
		if f.Escape == "json" {
			// A JSON log keeps its shape: add the keys the agent reads.
			if !jsonFixed[f.Name] {
				jsonFixed[f.Name] = true
				var keys []string
				for _, m := range missing {
					keys = append(keys, fmt.Sprintf(`"%s":"%s"`, strings.TrimPrefix(m, "$"), m))
				}
				changes = append(changes, fmt.Sprintf("# %s:%d: add to log_format %s (escape=json): %s", f.File, f.Line, f.Name, strings.Join(keys, ",")))
			}
			continue
		}
		needFormat = true
		line := "access_log " + a.Path + " origin_agent"
		if len(a.Params) > 0 {
			line += " " + strings.Join(a.Params, " ")
		}
		line += ";"
		if implicit {
			changes = append(changes, fmt.Sprintf("# %s:%d: add to the http block (after the log_format):", a.File, a.Line), line)
		} else {
			changes = append(changes, fmt.Sprintf("# %s:%d: replace `access_log %s%s;` with:", a.File, a.Line, a.Path, formatArg(a)), line)
		}
	}
	if needFormat {
		def, ok := formats["origin_agent"]
		switch {
		case ok && def.File != "" && hasAll(def.Format):
			// Already there: only the access_log lines change.
		case ok && def.File != "":
			fix = append(fix, fmt.Sprintf("# log_format origin_agent is defined at %s:%d; make it read:", def.File, def.Line), OriginAgentLogFormat)
		case httpBlock != nil:
			// nginx wants a format defined before the access_log that
			// names it: right after "http {" comes before all of them.
			fix = append(fix, fmt.Sprintf("# %s:%d: add right after `http {` (before any access_log that uses it):", httpBlock.File, httpBlock.Line), OriginAgentLogFormat)
		default:
			fix = append(fix, "# add to the http block, before any access_log that uses it:", OriginAgentLogFormat)
		}
	}
	if len(changes) > 0 {
		fix = append(fix, changes...)
		fix = append(fix, "nginx -t && systemctl reload nginx")
	}
	return judged, logs, fix
}

func hasAll(format string) bool {
	have := formatVars(format)
	for _, v := range DiagnosisVars {
		if !slices.Contains(have, v) {
			return false
		}
	}
	return true
}

// formatArg renders an access_log's format and parameters as written.
func formatArg(a nginxconf.AccessLog) string {
	s := ""
	if a.Format != "combined" || len(a.Params) > 0 {
		s = " " + a.Format
	}
	if len(a.Params) > 0 {
		s += " " + strings.Join(a.Params, " ")
	}
	return s
}

// apacheMissing lists the diagnosis directives an Apache format lacks: a request time in µs or ms (%D, %{us}T, %{ms}T; %T alone is whole
// seconds) and the CF-Ray request header.
func apacheMissing(format string) []string {
	var missing []string
	if !strings.Contains(format, "%D") && !strings.Contains(format, "%{us}T") && !strings.Contains(format, "%{ms}T") {
		missing = append(missing, "%D")
	}
	if !strings.Contains(strings.ToLower(format), "%{cf-ray}i") {
		missing = append(missing, "%{CF-Ray}i")
	}
	return missing
}

func apacheLogFormats(apc *apacheconf.Config) (judged int, logs []map[string]any, fix []string) {
	var changes []string
	for _, cl := range apc.AccessLogs() {
		where := apacheWhere(apc, cl.File, cl.Line)
		name := cl.Nickname
		if name == "" {
			name = "(inline)"
		}
		missing := apacheMissing(cl.Format)
		logs = append(logs, map[string]any{"software": "apache", "path": cl.Path, "format": name, "where": where, "missing": missing})
		judged++
		if len(missing) == 0 {
			continue
		}
		line := "CustomLog " + cl.Path + " origin_agent"
		if cl.Env != "" {
			line += " env=" + cl.Env
		}
		changes = append(changes, fmt.Sprintf("# %s: change the CustomLog to:", where), line)
	}
	if len(changes) == 0 {
		return judged, logs, nil
	}
	at := "# add to the main configuration, before the CustomLog lines:"
	for _, f := range apc.LogFormats {
		if f.VHost == "" && f.File != "" {
			at = fmt.Sprintf("# %s: add next to the LogFormat lines there:", apacheWhere(apc, f.File, f.Line))
			break
		}
	}
	fix = append(fix, at, ApacheOriginAgentLogFormat)
	fix = append(fix, changes...)
	fix = append(fix, "apachectl configtest && systemctl reload apache2")
	return judged, logs, fix
}

// apacheWhere names a configuration line by its absolute path: apacheconf
// gives files under ServerRoot relative to it, as Apache's own errors do.
func apacheWhere(apc *apacheconf.Config, file string, line int) string {
	if file != "" && !strings.HasPrefix(file, "/") && apc.ServerRoot != "" {
		file = strings.TrimSuffix(apc.ServerRoot, "/") + "/" + file
	}
	return fmt.Sprintf("%s:%d", file, line)
}
