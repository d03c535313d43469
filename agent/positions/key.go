package positions

import (
	"fmt"
	"hash/fnv"
	"os"
	"syscall"
)

// FingerprintSize is the most bytes a Fingerprint covers.
const FingerprintSize = 1024

// Fingerprint identifies a file's content by the FNV-1a 64 hash of its first
// Len bytes (Len ≤ FingerprintSize). Len is part of the identity so that a
// short file can later grow into a longer fingerprint: a file matches a
// fingerprint when its first Len bytes hash to Sum.
type Fingerprint struct {
	Sum uint64
	Len int
}

// FingerprintOf fingerprints the first min(len(prefix), FingerprintSize)
// bytes of prefix.
func FingerprintOf(prefix []byte) Fingerprint {
	if len(prefix) > FingerprintSize {
		prefix = prefix[:FingerprintSize]
	}
	h := fnv.New64a()
	h.Write(prefix) // hash.Hash.Write never fails
	return Fingerprint{Sum: h.Sum64(), Len: len(prefix)}
}

// Matches reports whether prefix (the first bytes of a file) starts with
// the content f was computed over.
func (f Fingerprint) Matches(prefix []byte) bool {
	if len(prefix) < f.Len {
		return false
	}
	return FingerprintOf(prefix[:f.Len]) == f
}

// Key identifies one generation of one log file: the path it is tailed
// under, the file's device and inode, and its content fingerprint. A file
// renamed away keeps its Dev/Ino; a file truncated in place
// (copytruncate) keeps Dev/Ino but changes its Fingerprint.
type Key struct {
	Path string
	Dev  uint64
	Ino  uint64
	FP   Fingerprint
}

// String is for logs.
func (k Key) String() string {
	return fmt.Sprintf("%s (dev %d, inode %d, fingerprint %016x/%d)", k.Path, k.Dev, k.Ino, k.FP.Sum, k.FP.Len)
}

// SameFile reports whether k and o name the same path and inode,
// whatever their fingerprints.
func (k Key) SameFile(o Key) bool {
	return k.Path == o.Path && k.Dev == o.Dev && k.Ino == o.Ino
}

// DevIno returns the device and inode of fi (Linux and other Unix).
func DevIno(fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), st.Ino, true //nolint:unconvert // Dev is int32/uint32 on some platforms
}
