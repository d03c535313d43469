package stockhost

import (
	"strings"
	"testing"
)

// TestBoot boots the stock host and checks that Debian's services came up
// under its systemd, in a network namespace of their own.
func TestBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a Debian root; not in -short")
	}
	Require(t)
	h := Boot(t, Image(t))
	for _, unit := range []string{"nginx", "php8.2-fpm", "systemd-journald"} {
		if out, err := h.Run("systemctl", "is-active", unit); err != nil {
			t.Errorf("%s is not active in the stock host: %v %s", unit, err, out)
		}
	}
	if out, err := h.Run("systemctl", "is-enabled", "apache2"); err == nil {
		t.Errorf("apache2 is enabled in the stock host: %s", out)
	}
	out := h.MustRun("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1/")
	if strings.TrimSpace(out) != "200" {
		t.Errorf("nginx's default page answered %q", out)
	}
}
