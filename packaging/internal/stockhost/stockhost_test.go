package stockhost

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
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

// TestSaveTar: the cached image is written whole or not at all, and a
// killed run's temporary file does not stay beside it. (Image reaches
// saveTar only when it bootstraps, which a warm cache skips.)
func TestSaveTar(t *testing.T) {
	testenv.Require(t, testenv.Command("tar", "tar"))
	root, cache := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "os-release"), []byte("ID=debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(cache, ".stockhost-bookworm-0.tar123")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(cache, "stockhost-bookworm-0.tar")
	if err := saveTar(root, image); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tar", "-tf", image).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "./os-release") {
		t.Errorf("tar -tf: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Errorf("left beside the image: %v", entries)
	}
	if err := saveTar(filepath.Join(root, "missing"), filepath.Join(cache, "stockhost-bookworm-1.tar")); err == nil {
		t.Error("tar of a missing root succeeded")
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Errorf("a failed tar left: %v", entries)
	}
}
