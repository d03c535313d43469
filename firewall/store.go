package firewall

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/origin-agent/origin-agent/internal/stateown"
)

// RangesFile is the name of the saved list inside the state directory.
const RangesFile = "cloudflare-ranges.json"

// ErrUsingEmbedded is wrapped by Load's error when it returned the embedded
// list instead of the saved one. The returned Ranges are usable; the error
// says why the file was not.
var ErrUsingEmbedded = errors.New("using the embedded Cloudflare list")

type storedRanges struct {
	V4      []string  `json:"ipv4_cidrs"`
	V6      []string  `json:"ipv6_cidrs"`
	ETag    string    `json:"etag,omitempty"`
	Fetched time.Time `json:"fetched"`
	Source  string    `json:"source"`
}

// Save writes r to dir/cloudflare-ranges.json atomically, mode 0644, with
// stateown.WriteFile (renameio: a temporary file in dir, fsync, rename,
// fsync of dir), so a reader sees the old or the new list, never half.
func (r Ranges) Save(dir string) error {
	s := storedRanges{ETag: r.ETag, Fetched: r.Fetched, Source: r.Source}
	for _, p := range r.V4 {
		s.V4 = append(s.V4, p.String())
	}
	for _, p := range r.V6 {
		s.V6 = append(s.V6, p.String())
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode ranges: %w", err)
	}
	path := filepath.Join(dir, RangesFile)
	// Run as root, the file is still the state directory owner's.
	if err := stateown.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// Load reads dir/cloudflare-ranges.json (Source "file"). When the file is
// missing, unreadable or fails the same validation as a fetched list, Load
// returns the embedded list and an error wrapping ErrUsingEmbedded (and the
// cause, e.g. fs.ErrNotExist): the Ranges are usable either way.
func Load(dir string) (Ranges, error) {
	path := filepath.Join(dir, RangesFile)
	r, err := loadFile(path)
	if err == nil {
		return r, nil
	}
	emb, eerr := Embedded()
	if eerr != nil {
		return Ranges{}, errors.Join(err, eerr)
	}
	return emb, fmt.Errorf("%w: %w", ErrUsingEmbedded, err)
}

func loadFile(path string) (Ranges, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Ranges{}, fmt.Errorf("load %s: %w", path, err)
	}
	var s storedRanges
	if err := json.Unmarshal(data, &s); err != nil {
		return Ranges{}, fmt.Errorf("load %s: %w", path, err)
	}
	v4, err := parseStrings(s.V4, IPv4)
	if err != nil {
		return Ranges{}, fmt.Errorf("load %s: ipv4: %w", path, err)
	}
	v6, err := parseStrings(s.V6, IPv6)
	if err != nil {
		return Ranges{}, fmt.Errorf("load %s: ipv6: %w", path, err)
	}
	return Ranges{V4: v4, V6: v6, ETag: s.ETag, Fetched: s.Fetched, Source: SourceFile}, nil
}
