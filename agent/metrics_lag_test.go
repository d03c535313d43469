package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/origin-agent/origin-agent/agent/positions"
	"github.com/origin-agent/origin-agent/parsers"
)

// origin_agent_positions_lag_bytes is the file's size minus the position
// saved for its current inode; a file with nothing committed has no value.
func TestPositionsLag(t *testing.T) {
	dir := t.TempDir()
	read := filepath.Join(dir, "access.log")
	fresh := filepath.Join(dir, "fresh.log")
	if err := os.WriteFile(read, []byte("line one\nline two\nline three\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fresh, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(read)
	if err != nil {
		t.Fatal(err)
	}
	dev, ino, _ := positions.DevIno(fi)
	store := positions.New(filepath.Join(dir, "positions.json"))
	store.Set(positions.Key{Path: read, Dev: dev, Ino: ino}, 9) // after "line one\n"
	store.Set(positions.Key{Path: read, Dev: dev, Ino: ino + 1}, 30)

	m := newMetrics(prometheus.NewRegistry())
	m.updateLag(store, []Watch{{Path: read, Type: parsers.TypeNginxAccess}, {Path: fresh, Type: parsers.TypeNginxAccess}})
	if got, want := testutil.ToFloat64(m.positionsLag.WithLabelValues("nginx_access", read)), float64(fi.Size()-9); got != want {
		t.Errorf("lag of %s = %v, want %v", read, got, want)
	}
	if n := testutil.CollectAndCount(m.positionsLag); n != 1 {
		t.Errorf("%d lag series, want 1 (nothing committed for %s yet)", n, fresh)
	}
}
