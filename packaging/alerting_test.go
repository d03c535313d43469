package packaging_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAlertingExamples: the shipped Prometheus rules load and fire as their
// unit tests say (promtool test rules: the agent down, a sink dropping, a
// receiver refusing every request, a backlog), and the example
// alertmanager.yml is a valid Alertmanager configuration.
func TestAlertingExamples(t *testing.T) {
	need(t, false, "promtool", "amtool")
	for _, args := range [][]string{
		{"promtool", "check", "rules", "alerting/origin-agent-rules.yml"},
		{"promtool", "test", "rules", "alerting/origin-agent-rules_test.yml"},
		{"amtool", "check-config", "alerting/alertmanager.yml"},
	} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
