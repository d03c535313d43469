// Package spool is the disk queue between the pipeline and one network sink:
// findings are written durably before the pipeline is told they were
// accepted, read back in order by the sink's Deliverer, and removed only
// after the destination confirmed them. After a restart or a crash
// (SIGKILL, power loss) the entries still on disk are delivered again
// (at-least-once; receivers de-duplicate by finding id).
//
// Storage: go.etcd.io/bbolt (one file, spool.db, per sink). Chosen over
// tidwall/wal because the Deliverer removes entries individually and out of
// append order when a destination confirms only part of a batch
// (Elasticsearch per-item errors): bbolt gives ordered keys (big-endian
// sequence numbers), deletion of any set of keys in one atomic transaction,
// and copy-on-write crash safety with fsync on commit, all in one file with
// no recovery code of ours. A WAL only truncates its front, so partial
// confirmation would need a second, hand-made index. bbolt's file does not
// shrink, but freed pages are reused, so with the size bound the file stays
// near its high-water mark.
//
// Group commit: Append calls from any number of goroutines are queued to
// one committer goroutine, which writes everything queued so far in one
// bbolt transaction (one fsync) and then releases all of them. While a
// commit is in flight new appends queue up for the next one, so a single
// caller pays one fsync and many callers share them. Append returns only
// after the fsync that covers its entry.
//
// Bound: the sum of stored entry sizes (the finding JSON plus 8 bytes) is
// kept at or below maxBytes by deleting the oldest entries in the same
// transaction as the append that overflowed; the drop hook is told how many.
package spool

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/internal/stateown"
)

// ErrClosed is returned by operations on a closed spool.
var ErrClosed = errors.New("spool closed")

// ErrLocked is returned by Open when another process (a running agent)
// holds the spool: bbolt locks its file for one writer.
var ErrLocked = errors.New("spool in use by another process")

// ErrTooLarge is returned by Append for a finding bigger than the whole bound.
var ErrTooLarge = errors.New("finding larger than the spool bound")

var (
	bucketEntries = []byte("entries")
	bucketMeta    = []byte("meta")
	keyBytes      = []byte("bytes")
	keyCount      = []byte("count")
)

// maxGroup bounds the entries of one group commit.
const maxGroup = 4096

// Entry is one spooled finding.
type Entry struct {
	Seq      uint64    // position in the spool, increasing
	Appended time.Time // when Append stored it
	Finding  finding.Finding
}

// Option configures Open.
type Option func(*Spool)

// WithDropHook sets the function called (from the committer goroutine,
// after the commit) when the bound dropped n oldest entries of total size
// bytes.
func WithDropHook(fn func(n int, bytes int64)) Option {
	return func(s *Spool) { s.onDrop = fn }
}

type appendReq struct {
	val  []byte
	done chan error
}

// Spool is a durable FIFO of findings. All methods are safe for concurrent
// use.
type Spool struct {
	db       *bolt.DB
	maxBytes int64
	onDrop   func(int, int64)
	now      func() time.Time

	reqs    chan appendReq
	closing chan struct{}
	stopped chan struct{}
	notify  chan struct{}

	mu        sync.Mutex
	count     int64
	bytes     int64
	closeOnce sync.Once
}

// Open opens (creating it if needed) the spool in dir, bounded to maxBytes
// of entries (maxBytes <= 0: unbounded). Only one process may have a spool
// open; a second Open fails after a second instead of waiting.
func Open(dir string, maxBytes int64, opts ...Option) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: create %s: %w", dir, err)
	}
	_ = stateown.Path(dir) // run as root: still the state directory owner's
	path := filepath.Join(dir, "spool.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("spool: open %s: %w (a running origin-agent?)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", path, err)
	}
	_ = stateown.Path(path)
	s := &Spool{
		db: db, maxBytes: maxBytes, now: time.Now,
		reqs: make(chan appendReq), closing: make(chan struct{}), stopped: make(chan struct{}),
		notify: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketEntries)
		if err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		// Recount from the entries themselves: cheap, and immune to a meta
		// record from an older layout.
		var n, size int64
		if err := b.ForEach(func(_, v []byte) error { n++; size += int64(len(v)); return nil }); err != nil {
			return err
		}
		s.count, s.bytes = n, size
		return putMeta(m, n, size)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("spool: init %s: %w", path, err)
	}
	go s.commitLoop()
	if s.count > 0 {
		s.signal()
	}
	return s, nil
}

func putMeta(m *bolt.Bucket, count, size int64) error {
	// bbolt keeps the slices until commit: one buffer per value.
	sb, cb := make([]byte, 8), make([]byte, 8)
	binary.BigEndian.PutUint64(sb, uint64(size))
	if err := m.Put(keyBytes, sb); err != nil {
		return err
	}
	binary.BigEndian.PutUint64(cb, uint64(count))
	return m.Put(keyCount, cb)
}

func getMeta(m *bolt.Bucket) (count, size int64) {
	if v := m.Get(keyBytes); len(v) == 8 {
		size = int64(binary.BigEndian.Uint64(v))
	}
	if v := m.Get(keyCount); len(v) == 8 {
		count = int64(binary.BigEndian.Uint64(v))
	}
	return count, size
}

// Append stores f durably. It returns nil only after the fsync that covers
// f; then (and only then) may the caller consider f accepted.
func (s *Spool) Append(f finding.Finding) error {
	js, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("spool: encode finding %s: %w", f.ID, err)
	}
	val := make([]byte, 8+len(js))
	binary.BigEndian.PutUint64(val, uint64(s.now().UnixNano()))
	copy(val[8:], js)
	if s.maxBytes > 0 && int64(len(val)) > s.maxBytes {
		return fmt.Errorf("spool: finding %s is %d bytes, bound %d: %w", f.ID, len(val), s.maxBytes, ErrTooLarge)
	}
	r := appendReq{val: val, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.closing:
		return ErrClosed
	}
	return <-r.done
}

// commitLoop is the single writer of appends: it takes every request queued
// so far and commits them together.
func (s *Spool) commitLoop() {
	defer close(s.stopped)
	group := make([]appendReq, 0, 64)
	for {
		group = group[:0]
		select {
		case r := <-s.reqs:
			group = append(group, r)
		case <-s.closing:
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
			default:
				break drain
			}
		}
		dropped, droppedBytes, err := s.commit(group)
		// The drop is counted before any Append returns: a caller that
		// reads the counter after its Append sees the drop it caused.
		if err == nil && dropped > 0 && s.onDrop != nil {
			s.onDrop(dropped, droppedBytes)
		}
		for _, r := range group {
			r.done <- err
		}
		if err == nil {
			s.signal()
		}
	}
}

func (s *Spool) commit(group []appendReq) (dropped int, droppedBytes int64, err error) {
	var count, size int64
	err = s.db.Update(func(tx *bolt.Tx) error {
		dropped, droppedBytes = 0, 0
		b, m := tx.Bucket(bucketEntries), tx.Bucket(bucketMeta)
		count, size = getMeta(m)
		for _, r := range group {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			key := make([]byte, 8) // bbolt keeps it until commit
			binary.BigEndian.PutUint64(key, seq)
			if err := b.Put(key, r.val); err != nil {
				return err
			}
			count++
			size += int64(len(r.val))
		}
		if s.maxBytes > 0 && size > s.maxBytes {
			c := b.Cursor()
			for k, v := c.First(); k != nil && size > s.maxBytes; k, v = c.First() {
				size -= int64(len(v))
				count--
				dropped++
				droppedBytes += int64(len(v))
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return putMeta(m, count, size)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("spool: commit %d entries: %w", len(group), err)
	}
	s.mu.Lock()
	s.count, s.bytes = count, size
	s.mu.Unlock()
	return dropped, droppedBytes, nil
}

func (s *Spool) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Notify returns a channel that receives (coalesced) after appends; the
// Deliverer waits on it when the spool is empty.
func (s *Spool) Notify() <-chan struct{} { return s.notify }

// Peek returns up to n of the oldest entries, oldest first, without removing
// them. Entries whose JSON no longer decodes are returned with a zero
// Finding and their Seq, so the caller can remove them.
func (s *Spool) Peek(n int) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEntries).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			e := Entry{Seq: binary.BigEndian.Uint64(k)}
			if len(v) >= 8 {
				e.Appended = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
				if err := json.Unmarshal(v[8:], &e.Finding); err != nil {
					e.Finding = finding.Finding{}
				}
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spool: read: %w", err)
	}
	return out, nil
}

// Remove deletes the entries with the given sequence numbers (those already
// gone, e.g. dropped by the bound, are ignored) in one durable transaction.
func (s *Spool) Remove(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	var count, size int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, m := tx.Bucket(bucketEntries), tx.Bucket(bucketMeta)
		count, size = getMeta(m)
		var key [8]byte
		for _, seq := range seqs {
			binary.BigEndian.PutUint64(key[:], seq)
			v := b.Get(key[:])
			if v == nil {
				continue
			}
			size -= int64(len(v))
			count--
			if err := b.Delete(key[:]); err != nil {
				return err
			}
		}
		return putMeta(m, count, size)
	})
	if err != nil {
		return fmt.Errorf("spool: remove %d entries: %w", len(seqs), err)
	}
	s.mu.Lock()
	s.count, s.bytes = count, size
	s.mu.Unlock()
	return nil
}

// IDs returns the finding ids of every entry waiting, so that a producer
// that may repeat itself (analyze --ship run again while the receiver was
// down) appends a finding only once.
func (s *Spool) IDs() (map[string]struct{}, error) {
	ids := make(map[string]struct{})
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).ForEach(func(_, v []byte) error {
			var f struct {
				ID string `json:"id"`
			}
			if len(v) >= 8 && json.Unmarshal(v[8:], &f) == nil && f.ID != "" {
				ids[f.ID] = struct{}{}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("spool: read ids: %w", err)
	}
	return ids, nil
}

// Len returns the number of entries waiting.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.count)
}

// Bytes returns the stored size the bound applies to.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Close stops the committer (appends in flight finish first) and closes the
// file. Entries stay on disk for the next Open.
func (s *Spool) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.stopped
		if e := s.db.Close(); e != nil {
			err = fmt.Errorf("spool: close: %w", e)
		}
	})
	return err
}
