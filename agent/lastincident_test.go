package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/positions"
)

func TestLastIncidentRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if got, err := loadLastIncident(dir); err != nil || !got.IsZero() {
		t.Fatalf("no file: %v, %v; want zero, nil", got, err)
	}
	end := time.Date(2026, 11, 20, 10, 1, 2, 345678000, time.FixedZone("CET", 3600))
	if err := saveLastIncident(dir, end); err != nil {
		t.Fatal(err)
	}
	got, err := loadLastIncident(dir)
	if err != nil || !got.Equal(end) {
		t.Fatalf("loaded %v, %v; want %v", got, err, end)
	}
	fi, err := os.Stat(filepath.Join(dir, lastIncidentFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
}

// A damaged file names itself and is ignored by New, which still starts.
func TestLastIncidentDamaged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, lastIncidentFile)
	if err := os.WriteFile(path, []byte("yesterday\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadLastIncident(dir)
	if err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Fatalf("error %v, want one naming %s:1", err, path)
	}
	if _, err := New(Options{StateDir: dir, Log: testLog(t)}); err != nil {
		t.Fatalf("New with a damaged %s: %v", lastIncidentFile, err)
	}
}

func TestResuming(t *testing.T) {
	dir := t.TempDir()
	if Resuming(dir) {
		t.Fatal("an empty state directory is resuming")
	}
	a, err := New(Options{StateDir: dir, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	a.store.Set(positions.Key{Path: "/var/log/nginx/access.log", Dev: 1, Ino: 2}, 10)
	if err := a.store.Sync(); err != nil {
		t.Fatal(err)
	}
	if !Resuming(dir) {
		t.Error("a state directory with a positions file is not resuming")
	}
}
