package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/origin-agent/origin-agent/agent/checks"
)

// AuditSchema names the JSON document AuditJSON writes.
const AuditSchema = "origin-agent/audit/v1"

// AuditJSON writes {"schema":"origin-agent/audit/v1","checks":[…]} and, when
// parts of the audit could not run, "errors":[…]. details and fix are always
// present (empty object / array), so consumers need no nil checks.
func AuditJSON(w io.Writer, cs []checks.Check, errs []string) error {
	doc := struct {
		Schema string         `json:"schema"`
		Checks []checks.Check `json:"checks"`
		Errors []string       `json:"errors,omitempty"`
	}{AuditSchema, make([]checks.Check, 0, len(cs)), errs}
	for _, c := range cs {
		if c.Details == nil {
			c.Details = map[string]any{}
		}
		if c.Fix == nil {
			c.Fix = []string{}
		}
		doc.Checks = append(doc.Checks, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write audit JSON: %w", err)
	}
	return nil
}

// AuditText writes one line per check ("FAIL  listener.443  summary"), the
// fix commands of checks that are not passing when fix is set, and the
// errors of parts that could not run.
func AuditText(w io.Writer, cs []checks.Check, errs []string, fix bool) error {
	pw := &errWriter{w: w}
	counts := map[checks.Status]int{}
	for _, c := range cs {
		counts[c.Status]++
		pw.printf("%-4s  %-34s %s\n", strings.ToUpper(string(c.Status)), c.ID, c.Summary)
		if fix && len(c.Fix) > 0 && c.Status != checks.Pass {
			for _, f := range c.Fix {
				pw.printf("        %s\n", strings.ReplaceAll(f, "\n", "\n        "))
			}
		}
	}
	for _, e := range errs {
		pw.printf("ERROR could not run: %s\n", e)
	}
	pw.printf("\n%d pass, %d warn, %d fail, %d skip", counts[checks.Pass], counts[checks.Warn], counts[checks.Fail], counts[checks.Skip])
	if !fix && (counts[checks.Warn]+counts[checks.Fail]) > 0 {
		pw.printf(" (run with --fix for the commands)")
	}
	pw.printf("\n")
	return pw.err
}
