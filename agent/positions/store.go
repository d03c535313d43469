// Package positions is the agent's checkpoint store: for each tailed file
// generation (path + device + inode + content fingerprint) the offset just
// after the last line the pipeline has handled.
//
// The store is in memory and written to one JSON file by Sync, atomically
// (stateown.WriteFile's way: renameio's temporary file in the same
// directory, mode 0600, fsync, rename, fsync of the directory), so a crash
// at any moment leaves either the old or the new file, never a torn one.
// The agent calls Sync from one loop (Agent.syncPositions), periodically,
// once more at stop, and not while an incident holds the commits (see
// package source, "Positions: commit, then sync"). All methods are safe
// for concurrent use.
package positions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/internal/stateown"
)

// Entry is one saved position.
type Entry struct {
	Key
	Offset int64
	// Lines is how many lines come before Offset, so that a resumed reader
	// still knows the number of the next line. 0 with Offset > 0 means
	// unknown (the file was first read from its end, or the entry was
	// written by a version that did not count).
	Lines int64
}

// pos is what the store keeps per key.
type pos struct{ off, lines int64 }

// Store holds positions in memory and persists them with Sync.
type Store struct {
	path string

	mu      sync.Mutex
	entries map[Key]pos
	dirty   bool
	loaded  time.Time // modification time of the file Open read
	// recovered is the modification time of a corrupt file Open set aside.
	recovered time.Time

	syncMu sync.Mutex // serialises writers of the file
	// beforeRename runs after the temporary file is written and synced and
	// before it is renamed over the store; tests use it to simulate a crash
	// (its error aborts the write, and the temporary file is removed).
	beforeRename func(tmp string) error
}

// ErrCorrupt is wrapped by Open's error for a positions file it could read
// but not parse. Open then still returns a usable, empty store: the bad
// file is set aside and Recovered says when it was written.
var ErrCorrupt = errors.New("positions file corrupt")

// Open loads the store at path. A missing file gives an empty store (first
// start); an unreadable file is an error naming it.
//
// A malformed file (torn by a disk error, edited by hand, written by an
// unknown version) is renamed to path.corrupt-<UTC time> for inspection,
// and Open returns an empty store with an error wrapping ErrCorrupt. The
// store's Recovered is the bad file's modification time: the agent ran
// before, so its sources must not start at the end of each file like on a
// first start (the lines written while it was down would never be read),
// but from the start of the files (see package source). That may repeat
// findings already sent; their ids are the same, so receivers de-duplicate
// them. Losing lines would be worse.
func Open(path string) (*Store, error) {
	s := New(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read positions %s: %w", path, err)
	}
	var mtime time.Time
	if fi, err := os.Stat(path); err == nil {
		mtime = fi.ModTime()
	}
	if err := s.load(data); err != nil {
		aside := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000000000Z")
		if rerr := os.Rename(path, aside); rerr != nil {
			aside = path + " (could not be set aside: " + rerr.Error() + ")"
		}
		if mtime.IsZero() {
			mtime = time.Unix(1, 0) // unknown: any file may hold unread lines
		}
		s = New(path)
		s.recovered = mtime
		return s, fmt.Errorf("parse positions %s: %v (%w, set aside as %s)", path, err, ErrCorrupt, aside)
	}
	s.loaded = mtime
	return s, nil
}

func (s *Store) load(data []byte) error {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if f.Version != fileVersion {
		return fmt.Errorf("unsupported version %d (want %d)", f.Version, fileVersion)
	}
	for i, p := range f.Positions {
		k, off, err := p.decode()
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		s.entries[k] = pos{off: off, lines: p.Lines}
	}
	return nil
}

// Recovered is the modification time of a corrupt positions file Open set
// aside (zero when there was none): the last checkpoint was taken about
// then, and what it held is lost.
func (s *Store) Recovered() time.Time { return s.recovered }

// New returns an empty store that Sync writes to path.
func New(path string) *Store {
	return &Store{path: path, entries: make(map[Key]pos)}
}

// Loaded is when the file Open read was last written (zero when there
// was none): anything changed on disk after it happened while no
// checkpoint was taken.
func (s *Store) Loaded() time.Time { return s.loaded }

// Path is the file the store is written to.
func (s *Store) Path() string { return s.path }

// Get returns the offset saved for exactly k (fingerprint included).
func (s *Store) Get(k Key) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.entries[k]
	return p.off, ok
}

// Find returns every entry saved under path, whatever its inode or
// fingerprint, ordered by inode and then by fingerprint length (longest
// last). The source uses it on start to resume rotated generations.
func (s *Store) Find(path string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entry
	for k, p := range s.entries {
		if k.Path == path {
			out = append(out, Entry{Key: k, Offset: p.off, Lines: p.lines})
		}
	}
	slices.SortFunc(out, compareEntries)
	return out
}

// Set records that everything before off in k was handled. It only moves
// an entry forward: a smaller offset for an existing key is ignored (use
// Reset to move back). Negative offsets are ignored.
func (s *Store) Set(k Key, off int64) { s.Mark(k, off, 0) }

// Mark is Set with the number of lines before off (0: unknown, see
// Entry.Lines).
func (s *Store) Mark(k Key, off, lines int64) {
	if off < 0 {
		return
	}
	if lines < 0 {
		lines = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.entries[k]; ok && cur.off >= off {
		return
	}
	s.entries[k] = pos{off: off, lines: lines}
	s.dirty = true
}

// Reset sets the offset of k unconditionally.
func (s *Store) Reset(k Key, off int64) {
	if off < 0 {
		off = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[k] = pos{off: off}
	s.dirty = true
}

// Remove forgets k.
func (s *Store) Remove(k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[k]; ok {
		delete(s.entries, k)
		s.dirty = true
	}
}

// Len is the number of entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Sync writes the store to its file atomically. It writes nothing when
// nothing changed since the last successful Sync (or Open).
func (s *Store) Sync() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()

	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	data, err := s.marshalLocked()
	s.dirty = false
	s.mu.Unlock()
	if err == nil {
		err = s.write(data)
	}
	if err != nil {
		s.mu.Lock()
		s.dirty = true // try again next time
		s.mu.Unlock()
	}
	return err
}

func (s *Store) marshalLocked() ([]byte, error) {
	f := file{Version: fileVersion, Positions: make([]jsonEntry, 0, len(s.entries))}
	list := make([]Entry, 0, len(s.entries))
	for k, p := range s.entries {
		list = append(list, Entry{Key: k, Offset: p.off, Lines: p.lines})
	}
	slices.SortFunc(list, compareEntries)
	for _, e := range list {
		f.Positions = append(f.Positions, encode(e))
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode positions: %w", err)
	}
	return append(data, '\n'), nil
}

// write replaces s.path with data through stateown.WriteFile's steps
// (renameio: temporary file beside it, 0600, the state directory owner's,
// fsync, rename, fsync of the directory), with the test hook between the
// fsync of the data and the rename.
func (s *Store) write(data []byte) error {
	pf, err := stateown.NewPendingFile(s.path, 0o600)
	if err != nil {
		return fmt.Errorf("write positions %s: %w", s.path, err)
	}
	defer pf.Cleanup()
	if _, err := pf.Write(data); err != nil {
		return fmt.Errorf("write positions %s: %w", s.path, err)
	}
	if s.beforeRename != nil {
		if err := pf.Sync(); err != nil {
			return fmt.Errorf("write positions %s: %w", s.path, err)
		}
		if err := s.beforeRename(pf.Name()); err != nil {
			return fmt.Errorf("write positions %s: %w", s.path, err)
		}
	}
	if err := stateown.Replace(pf); err != nil {
		return fmt.Errorf("write positions %s: %w", s.path, err)
	}
	return nil
}

func compareEntries(a, b Entry) int {
	if c := cmpStr(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmpU(a.Dev, b.Dev); c != 0 {
		return c
	}
	if c := cmpU(a.Ino, b.Ino); c != 0 {
		return c
	}
	if c := cmpU(uint64(a.FP.Len), uint64(b.FP.Len)); c != 0 {
		return c
	}
	if c := cmpU(a.FP.Sum, b.FP.Sum); c != 0 {
		return c
	}
	return cmpU(uint64(a.Offset), uint64(b.Offset))
}

func cmpStr(a, b string) int { return strings.Compare(a, b) }

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

const fileVersion = 1

// file is the on-disk shape:
//
//	{"version":1,"positions":[{"path":"/var/log/nginx/access.log","dev":2049,
//	  "inode":1234,"fingerprint":"fnv1a64:0123456789abcdef","fingerprint_len":1024,"offset":5678,
//	  "lines":42}]}
//
// "lines" (the lines before offset) is left out where unknown, so files
// written before it existed still load (their line numbers are unknown).
type file struct {
	Version   int         `json:"version"`
	Positions []jsonEntry `json:"positions"`
}

type jsonEntry struct {
	Path           string `json:"path"`
	Dev            uint64 `json:"dev"`
	Inode          uint64 `json:"inode"`
	Fingerprint    string `json:"fingerprint"`
	FingerprintLen int    `json:"fingerprint_len"`
	Offset         int64  `json:"offset"`
	Lines          int64  `json:"lines,omitempty"`
}

const fpPrefix = "fnv1a64:"

func encode(e Entry) jsonEntry {
	return jsonEntry{
		Path: e.Path, Dev: e.Dev, Inode: e.Ino,
		Fingerprint:    fpPrefix + fmt.Sprintf("%016x", e.FP.Sum),
		FingerprintLen: e.FP.Len,
		Offset:         e.Offset,
		Lines:          e.Lines,
	}
}

func (j jsonEntry) decode() (Key, int64, error) {
	if j.Path == "" {
		return Key{}, 0, errors.New("empty path")
	}
	if j.Offset < 0 {
		return Key{}, 0, fmt.Errorf("negative offset %d", j.Offset)
	}
	if j.Lines < 0 || j.Lines > j.Offset {
		return Key{}, 0, fmt.Errorf("lines %d out of range 0..offset %d", j.Lines, j.Offset)
	}
	if j.FingerprintLen < 0 || j.FingerprintLen > FingerprintSize {
		return Key{}, 0, fmt.Errorf("fingerprint_len %d out of range 0..%d", j.FingerprintLen, FingerprintSize)
	}
	hex, ok := strings.CutPrefix(j.Fingerprint, fpPrefix)
	if !ok {
		return Key{}, 0, fmt.Errorf("fingerprint %q: want %s<16 hex digits>", j.Fingerprint, fpPrefix)
	}
	sum, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || len(hex) != 16 {
		return Key{}, 0, fmt.Errorf("fingerprint %q: want %s<16 hex digits>", j.Fingerprint, fpPrefix)
	}
	k := Key{Path: j.Path, Dev: j.Dev, Ino: j.Inode, FP: Fingerprint{Sum: sum, Len: j.FingerprintLen}}
	return k, j.Offset, nil
}
